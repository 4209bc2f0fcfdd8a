// Progress bar rendering and throttling. Rendering is a pure function so tests can pin its format.
#include "common/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace scalelab {

ProgressSink ProgressSink::stderr_sink() {
  ProgressSink sink;
  sink.write = [](std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stderr);
    std::fflush(stderr);
  };
  sink.is_tty = ::isatty(STDERR_FILENO) == 1;
  sink.now_s = [] {
    using Clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  };
  return sink;
}

ProgressBar::ProgressBar(std::string desc, int64_t total, ProgressOptions options,
                         ProgressSink sink)
    : desc_(std::move(desc)), total_(total), options_(std::move(options)), sink_(std::move(sink)) {
  start_s_ = sink_.now_s();
  last_draw_s_ = start_s_;
}

ProgressBar::~ProgressBar() { close(); }

void ProgressBar::update(int64_t delta) {
  n_.fetch_add(delta, std::memory_order_relaxed);
  maybe_draw(false);
}

void ProgressBar::set(int64_t n) {
  n_.store(n, std::memory_order_relaxed);
  maybe_draw(false);
}

void ProgressBar::set_total(int64_t total) {
  std::lock_guard lock(mutex_);
  total_ = total;
}

void ProgressBar::set_postfix(std::string postfix) {
  std::lock_guard lock(mutex_);
  postfix_ = std::move(postfix);
}

void ProgressBar::close() {
  maybe_draw(true);
  std::lock_guard lock(mutex_);
  if (!closed_ && sink_.is_tty && drew_) sink_.write("\n");
  closed_ = true;
}

void ProgressBar::maybe_draw(bool force) {
  double now = sink_.now_s();
  double interval = sink_.is_tty ? options_.redraw_interval_s : options_.line_interval_s;
  // Cheap unlocked pre-check so hot loops calling update() do not contend on the mutex.
  if (!force && now - last_draw_s_ < interval) return;
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    if (!force) return;
    lock.lock();
  }
  if (closed_) return;
  if (!force && now - last_draw_s_ < interval) return;
  last_draw_s_ = now;
  std::string line = render(desc_, n(), total_, now - start_s_, options_, postfix_, sink_.is_tty);
  drew_ = true;
  if (sink_.is_tty) {
    sink_.write("\r" + line + "\x1b[K");
  } else {
    sink_.write(line + "\n");
  }
}

std::string ProgressBar::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<int64_t>(seconds + 0.5);
  int64_t h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, sec);
  return fmt::format("{:02}:{:02}", m, sec);
}

std::string ProgressBar::format_amount(double value, const ProgressOptions& options) {
  if (!options.scale_units) {
    if (value == std::floor(value) && std::abs(value) < 1e15)
      return fmt::format("{}", static_cast<int64_t>(value));
    return fmt::format("{:.1f}", value);
  }
  static constexpr const char* kPrefix[] = {"", "k", "M", "G", "T", "P"};
  int i = 0;
  while (std::abs(value) >= 1000.0 && i < 5) {
    value /= 1000.0;
    ++i;
  }
  return i == 0 ? fmt::format("{:.0f}", value) : fmt::format("{:.2f}{}", value, kPrefix[i]);
}

std::string ProgressBar::render(std::string_view desc, int64_t n, int64_t total, double elapsed_s,
                                const ProgressOptions& options, std::string_view postfix,
                                bool tty) {
  double rate = elapsed_s > 0 ? static_cast<double>(n) / elapsed_s : 0.0;
  bool known = total > 0;
  double frac =
      known ? std::clamp(static_cast<double>(n) / static_cast<double>(total), 0.0, 1.0) : 0.0;
  double eta = (known && rate > 0) ? static_cast<double>(total - n) / rate : NAN;
  std::string amount =
      known ? fmt::format("{}/{}", format_amount(n, options), format_amount(total, options))
            : format_amount(n, options);
  std::string rate_s =
      format_amount(rate, ProgressOptions{.unit = options.unit, .scale_units = true});
  std::string prefix = desc.empty() ? "" : fmt::format("{}: ", desc);
  std::string tail = postfix.empty() ? "" : fmt::format(" {}", postfix);
  if (!tty) {
    std::string pct = known ? fmt::format(" ({:.1f}%)", 100.0 * frac) : "";
    std::string eta_s = known ? fmt::format(", ETA {}", format_duration(eta)) : "";
    return fmt::format("{}{}{} {} {}/s, elapsed {}{}{}", prefix, amount, pct, rate_s, options.unit,
                       format_duration(elapsed_s), eta_s, tail);
  }
  std::string stats = known
                          ? fmt::format(" {} [{}<{}, {}{}/s]{}", amount, format_duration(elapsed_s),
                                        format_duration(eta), rate_s, options.unit, tail)
                          : fmt::format(" {} [{}, {}{}/s]{}", amount, format_duration(elapsed_s),
                                        rate_s, options.unit, tail);
  if (!known) return prefix + stats.substr(1);
  std::string pct = fmt::format("{:3.0f}%|", 100.0 * frac);
  int bar_width = options.width - static_cast<int>(prefix.size() + pct.size() + stats.size()) - 1;
  bar_width = std::clamp(bar_width, 10, 60);
  // Eighth-block resolution, as tqdm does: "█" full cells, one partial cell from "▏▎▍▌▋▊▉".
  static constexpr const char* kPartial[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  int eighths = static_cast<int>(frac * bar_width * 8);
  int full = eighths / 8;
  std::string bar;
  for (int i = 0; i < full; ++i) bar += "█";
  int cells = full;
  if (full < bar_width) {
    bar += kPartial[eighths % 8];
    cells += (eighths % 8) ? 1 : 0;
  }
  bar.append(static_cast<size_t>(bar_width - cells), ' ');
  return prefix + pct + bar + "|" + stats;
}

}  // namespace scalelab
