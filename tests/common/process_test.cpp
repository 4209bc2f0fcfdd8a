// keep_freed_memory_for_reuse: glibc's malloc keeps a step's buffers in the heap; the GPU share
// a sweep gives a packed worker.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common/error.h"
#include "common/process.h"

namespace scalelab {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizedMalloc = true;  // ASan's malloc ignores mallopt
#else
constexpr bool kSanitizedMalloc = false;
#endif

// SCALELAB_GPU_SHARE: unset or empty is 0 (the GPU is the process's own); a fraction in (0, 1] is
// read; anything else is a one-line error naming the variable.
TEST(Process, GpuShareFromTheEnvironment) {
  ::unsetenv(kGpuShareEnv);
  EXPECT_EQ(gpu_share_from_env(), 0);
  ::setenv(kGpuShareEnv, "", 1);
  EXPECT_EQ(gpu_share_from_env(), 0);
  ::setenv(kGpuShareEnv, "0.25", 1);
  EXPECT_EQ(gpu_share_from_env(), 0.25);
  for (const char* bad : {"0", "1.5", "-0.5", "half", "0.5x"}) {
    ::setenv(kGpuShareEnv, bad, 1);
    try {
      gpu_share_from_env();
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                fmt::format("SCALELAB_GPU_SHARE: must be a fraction in (0, 1] (got '{}')", bad));
    }
  }
  ::unsetenv(kGpuShareEnv);
}

TEST(Process, KeepFreedMemoryDefersToTheUsersMallocSettings) {
  ASSERT_EQ(setenv("MALLOC_TRIM_THRESHOLD_", "1000000", 1), 0);
  EXPECT_FALSE(keep_freed_memory_for_reuse());
  ASSERT_EQ(unsetenv("MALLOC_TRIM_THRESHOLD_"), 0);
}

TEST(Process, KeepFreedMemoryServesMebibyteBuffersFromTheHeap) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  if (kSanitizedMalloc || std::getenv("GLIBC_TUNABLES") != nullptr)
    GTEST_SKIP() << "malloc is not glibc's, or the user tuned it";
  ASSERT_TRUE(keep_freed_memory_for_reuse());
  // A 4 MiB buffer (a CPU step's logits at batch 2048 × vocab 512) is not mmapped: with glibc's
  // defaults it is, until a free moves the dynamic threshold.
  const size_t mmapped_before = mallinfo2().hblks;
  auto buf = std::make_unique<char[]>(4 << 20);
  buf[0] = 1;
  EXPECT_EQ(mallinfo2().hblks, mmapped_before);
#else
  GTEST_SKIP() << "not glibc ≥ 2.33";
#endif
}

}  // namespace
}  // namespace scalelab
