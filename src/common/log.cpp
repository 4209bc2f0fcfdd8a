// Logger implementation: one atomic level, one mutex around the stderr write so lines never
// interleave.
#include "common/log.h"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "common/error.h"

namespace scalelab::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mutex;
}  // namespace

Level level() { return g_level.load(std::memory_order_relaxed); }
void set_level(Level l) { g_level.store(l, std::memory_order_relaxed); }

std::string_view level_name(Level l) {
  switch (l) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "?";
}

Level parse_level(std::string_view name) {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (Level l :
       {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (lower == level_name(l)) return l;
  }
  if (lower == "warning") return Level::kWarn;
  SCALELAB_FAIL("unknown log level '{}' (expected trace, debug, info, warn, error or off)", name);
}

void init_from_env() {
  if (const char* env = std::getenv("SCALELAB_LOG_LEVEL"); env != nullptr && *env != '\0') {
    try {
      set_level(parse_level(env));
    } catch (const Error& e) {
      SCALELAB_FAIL("SCALELAB_LOG_LEVEL: {}", e.what());
    }
  }
}

void write(Level l, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  std::lock_guard lock(g_mutex);
  fmt::print(stderr, "[{} {}] {}\n", stamp, level_name(l), message);
  std::fflush(stderr);
}

}  // namespace scalelab::log
