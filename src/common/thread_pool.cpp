// Thread pool implementation: one queue, one mutex, workers drain the queue before stopping.
#include "common/thread_pool.h"

#include <algorithm>
#include <exception>

namespace scalelab {

size_t ThreadPool::default_threads() {
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(size_t n_threads) {
  if (n_threads == 0) n_threads = default_threads();
  workers_.reserve(n_threads);
  for (size_t i = 0; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::enqueue(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ThreadPool::worker_loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();  // packaged_task captures exceptions into its future
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& body,
                              size_t min_chunk) {
  if (n == 0) return;
  size_t chunks =
      std::max<size_t>(1, std::min(size(), (n + min_chunk - 1) / std::max<size_t>(1, min_chunk)));
  size_t per = (n + chunks - 1) / chunks;
  std::vector<std::future<void>> futures;
  for (size_t begin = 0; begin < n; begin += per) {
    size_t end = std::min(n, begin + per);
    futures.push_back(submit([&body, begin, end] { body(begin, end); }));
  }
  std::exception_ptr first;
  for (auto& f : futures) {
    try {
      f.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace scalelab
