// Out-of-line pieces of scalelab::Error.
#include "common/error.h"

#include <string_view>

namespace scalelab {

std::string Error::where() const {
  // Strip everything up to the repository-relative part ("src/…", "apps/…") for readability.
  std::string_view f(file_);
  for (std::string_view root : {"/src/", "/apps/", "/tests/"}) {
    if (auto pos = f.rfind(root); pos != std::string_view::npos) {
      f.remove_prefix(pos + 1);
      break;
    }
  }
  return fmt::format("{}:{}", f, line_);
}

namespace detail {
void throw_error(const char* file, int line, std::string message) {
  throw Error(std::move(message), file, line);
}
}  // namespace detail

}  // namespace scalelab
