// A small fixed-size thread pool. submit() returns a std::future, so a task's exception reaches the
// caller at get(); parallel_for() runs [0, n) in contiguous chunks and rethrows the first exception
// after all chunks finish. Workers never terminate the process.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace scalelab {

class ThreadPool {
 public:
  // n_threads == 0 means std::thread::hardware_concurrency() (at least 1).
  explicit ThreadPool(size_t n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  template <typename F>
  auto submit(F&& f) -> std::future<std::invoke_result_t<F>> {
    using R = std::invoke_result_t<F>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(f));
    std::future<R> result = task->get_future();
    enqueue([task] { (*task)(); });
    return result;
  }

  // Calls body(begin, end) on disjoint chunks covering [0, n), at most size() chunks at a time.
  // Blocks until all finish; rethrows the first exception (in chunk order) if any task threw.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& body,
                    size_t min_chunk = 1);

  static size_t default_threads();

 private:
  void enqueue(std::function<void()> job);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> queue_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace scalelab
