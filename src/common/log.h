// Levelled logging to stderr: SCALELAB_LOG_INFO("loaded {} runs", n). The level comes from
// --log-level or the SCALELAB_LOG_LEVEL environment variable (trace|debug|info|warn|error|off).
// Results never go through the logger: they go to stdout or files.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace scalelab::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

Level level();
void set_level(Level level);
// Parses "trace" … "off" (case-insensitive); throws scalelab::Error naming the bad value.
Level parse_level(std::string_view name);
std::string_view level_name(Level level);
// Applies SCALELAB_LOG_LEVEL if set (throws on a bad value, naming the variable).
void init_from_env();

inline bool enabled(Level l) { return l >= level() && level() != Level::kOff; }
void write(Level l, std::string_view message);

}  // namespace scalelab::log

#define SCALELAB_LOG_AT(lvl, ...)                              \
  do {                                                         \
    if (::scalelab::log::enabled(lvl)) {                       \
      ::scalelab::log::write(lvl, ::fmt::format(__VA_ARGS__)); \
    }                                                          \
  } while (0)
#define SCALELAB_LOG_TRACE(...) SCALELAB_LOG_AT(::scalelab::log::Level::kTrace, __VA_ARGS__)
#define SCALELAB_LOG_DEBUG(...) SCALELAB_LOG_AT(::scalelab::log::Level::kDebug, __VA_ARGS__)
#define SCALELAB_LOG_INFO(...) SCALELAB_LOG_AT(::scalelab::log::Level::kInfo, __VA_ARGS__)
#define SCALELAB_LOG_WARN(...) SCALELAB_LOG_AT(::scalelab::log::Level::kWarn, __VA_ARGS__)
#define SCALELAB_LOG_ERROR(...) SCALELAB_LOG_AT(::scalelab::log::Level::kError, __VA_ARGS__)
