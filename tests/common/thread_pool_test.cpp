#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <stdexcept>

#include "common/error.h"

namespace scalelab {
namespace {

TEST(ThreadPool, SubmitReturnsResults) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.size(), 3u);
  std::vector<std::future<int>> fs;
  for (int i = 0; i < 100; ++i) fs.push_back(pool.submit([i] { return i * i; }));
  int sum = 0;
  for (auto& f : fs) sum += f.get();
  EXPECT_EQ(sum, 328350);
}

TEST(ThreadPool, TaskExceptionReachesCaller) {
  ThreadPool pool(2);
  auto f = pool.submit([]() -> int { SCALELAB_FAIL("chunk {} failed", 7); });
  try {
    f.get();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "chunk 7 failed");
  }
  // The pool keeps working after a failed task.
  EXPECT_EQ(pool.submit([] { return 5; }).get(), 5);
}

TEST(ThreadPool, ParallelForCoversRangeOnceAndRethrows) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(1001);
  pool.parallel_for(hits.size(), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) hits[i]++;
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  std::atomic<int> finished{0};
  EXPECT_THROW(pool.parallel_for(8,
                                 [&](size_t b, size_t) {
                                   if (b == 0) throw std::runtime_error("boom");
                                   finished++;
                                 }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 3);  // the other chunks still ran to completion
  pool.parallel_for(0, [](size_t, size_t) { FAIL(); });
}

}  // namespace
}  // namespace scalelab
