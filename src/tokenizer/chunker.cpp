#include "tokenizer/chunker.h"

#include <algorithm>
#include <cstring>

namespace scalelab::tokenizer {

std::vector<Chunk> plan_chunks(std::string_view text, size_t target,
                               const SpecialSplitter& specials, size_t window) {
  std::vector<Chunk> out;
  const size_t n = text.size();
  target = std::max<size_t>(target, 1);
  size_t begin = 0;
  while (begin < n) {
    size_t want = begin + target;
    if (want >= n) {
      out.push_back({begin, n});
      break;
    }
    size_t cut = std::string_view::npos;
    const size_t limit = std::min(n, want + window);
    if (!specials.empty()) {
      size_t which = 0;
      size_t at = specials.find(text.substr(0, limit), want, which);
      if (at != std::string_view::npos) cut = at;
    }
    if (cut == std::string_view::npos) {
      for (size_t p = want; p < limit; ++p) {
        const void* sp = std::memchr(text.data() + p, ' ', limit - p);
        if (sp == nullptr) break;
        p = static_cast<size_t>(static_cast<const char*>(sp) - text.data());
        if (is_safe_cut(text, p)) {
          cut = p;
          break;
        }
      }
    }
    if (cut == std::string_view::npos) {
      // No cut in the window: keep scanning for the next safe one (a chunk may grow, never cut
      // unsafely).
      size_t which = 0;
      size_t at = specials.empty() ? std::string_view::npos : specials.find(text, limit, which);
      size_t p = limit;
      for (; p < n; ++p) {
        if (at != std::string_view::npos && p >= at) break;
        if (text[p] == ' ' && is_safe_cut(text, p)) break;
      }
      cut = (at != std::string_view::npos && at <= p) ? at : p;
    }
    out.push_back({begin, cut});
    begin = cut;
  }
  return out;
}

}  // namespace scalelab::tokenizer
