// keep_freed_memory_for_reuse: glibc's malloc keeps a step's buffers in the heap.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common/process.h"

namespace scalelab {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizedMalloc = true;  // ASan's malloc ignores mallopt
#else
constexpr bool kSanitizedMalloc = false;
#endif

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
