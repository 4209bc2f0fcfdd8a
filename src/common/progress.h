// A tqdm-like progress bar: description, n/total, rate and ETA. On a TTY it redraws one line in
// place (at most every redraw_interval); otherwise it prints a plain line every line_interval
// seconds, so logs of long jobs stay readable. Library functions take a ProgressBar* from their
// caller (nullptr = silent); they never create bars themselves. update() is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace scalelab {

struct ProgressOptions {
  std::string unit = "it";         // "it", "B" (scaled to kB/MB/GB), "merges", "tok", ...
  bool scale_units = false;        // 1.2M instead of 1234567 (on for bytes)
  double redraw_interval_s = 0.1;  // TTY: minimum time between redraws
  double line_interval_s = 5.0;    // non-TTY: one line every this many seconds
  int width = 100;                 // TTY: total line width in columns
};

// Where a bar writes and how it tells time; the default is stderr and the steady clock.
struct ProgressSink {
  std::function<void(std::string_view)> write;  // receives complete chunks ("\r…" or "…\n")
  bool is_tty = false;
  std::function<double()> now_s;  // monotonic seconds
  static ProgressSink stderr_sink();
};

class ProgressBar {
 public:
  // total <= 0 means unknown (no percentage or ETA).
  ProgressBar(std::string desc, int64_t total, ProgressOptions options = {},
              ProgressSink sink = ProgressSink::stderr_sink());
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(int64_t delta = 1);
  void set(int64_t n);
  void set_total(int64_t total);
  void set_postfix(std::string postfix);
  // Draws the final state and ends the line. Idempotent; the destructor calls it.
  void close();

  int64_t n() const { return n_.load(std::memory_order_relaxed); }
  int64_t total() const { return total_; }

  // Pure formatting, exposed for tests. tty=true: "desc:  45%|████▌     | 450/1000 [00:03<00:04,
  // 150.0it/s] postfix"; tty=false: "desc: 450/1000 (45.0%) 150.0 it/s, elapsed 00:03, ETA 00:04".
  static std::string render(std::string_view desc, int64_t n, int64_t total, double elapsed_s,
                            const ProgressOptions& options, std::string_view postfix, bool tty);
  static std::string format_duration(double seconds);  // "00:04", "1:02:03"
  static std::string format_amount(double value, const ProgressOptions& options);

 private:
  void maybe_draw(bool force);

  std::string desc_;
  std::atomic<int64_t> n_{0};
  int64_t total_;
  ProgressOptions options_;
  ProgressSink sink_;
  std::mutex mutex_;  // guards drawing state and postfix
  std::string postfix_;
  double start_s_;
  double last_draw_s_;
  bool closed_ = false;
  bool drew_ = false;
};

}  // namespace scalelab
