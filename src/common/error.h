// Errors: scalelab::Error carries a one-line user message plus the throwing file:line.
// SCALELAB_CHECK is for user-facing validation (always on); SCALELAB_ASSERT for internal invariants
// (compiled out in Release hot loops via NDEBUG). Never exit()/abort() in library code.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace scalelab {

class Error : public std::runtime_error {
 public:
  Error(std::string message, const char* file, int line)
      : std::runtime_error(std::move(message)), file_(file), line_(line) {}

  const char* file() const { return file_; }
  int line() const { return line_; }
  // "src/accounting/model_shape.cpp:42"
  std::string where() const;

 private:
  const char* file_;
  int line_;
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, std::string message);

template <typename... Args>
[[noreturn]] void throw_fmt(const char* file, int line, fmt::format_string<Args...> f,
                            Args&&... args) {
  throw_error(file, line, fmt::format(f, std::forward<Args>(args)...));
}
}  // namespace detail

}  // namespace scalelab

// SCALELAB_CHECK(cond, "field {} must be positive (got {})", name, value)
#define SCALELAB_CHECK(cond, ...)                                     \
  do {                                                                \
    if (!(cond)) [[unlikely]] {                                       \
      ::scalelab::detail::throw_fmt(__FILE__, __LINE__, __VA_ARGS__); \
    }                                                                 \
  } while (0)

// SCALELAB_FAIL("unknown preset '{}'", name): unconditional throw.
#define SCALELAB_FAIL(...) ::scalelab::detail::throw_fmt(__FILE__, __LINE__, __VA_ARGS__)

#ifdef NDEBUG
#define SCALELAB_ASSERT(cond) ((void)0)
#else
#define SCALELAB_ASSERT(cond) SCALELAB_CHECK(cond, "internal invariant violated: {}", #cond)
#endif
