// The GPT-2 pre-tokenizer scanner. Each branch below is one alternative of the pattern, tried in
// the pattern's order; the comments name it. Speed: ASCII bytes are classified by a flat table;
// only non-ASCII code points consult the two-stage Unicode table.
#include "tokenizer/pretokenizer.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace scalelab::tokenizer {

namespace {

inline CharClass class_at(std::string_view t, size_t i, size_t& len) {
  const auto b = static_cast<unsigned char>(t[i]);
  if (b < 0x80) {
    len = 1;
    return static_cast<CharClass>(detail::kAsciiClass[b]);
  }
  return char_class(decode_utf8(t, i, len));
}

// End of the run of characters of class c starting at i (i itself is assumed to be of class c).
inline size_t run_end(std::string_view t, size_t i, CharClass c) {
  const size_t n = t.size();
  while (i < n) {
    const auto b = static_cast<unsigned char>(t[i]);
    if (b < 0x80) {
      if (detail::kAsciiClass[b] != c) return i;
      ++i;
    } else {
      size_t len = 0;
      if (char_class(decode_utf8(t, i, len)) != c) return i;
      i += len;
    }
  }
  return n;
}

}  // namespace

size_t next_pretoken_end(std::string_view t, size_t pos) {
  const size_t n = t.size();
  const char c0 = t[pos];
  // '(?:[sdmt]|ll|ve|re)
  if (c0 == '\'' && pos + 1 < n) {
    const char c1 = t[pos + 1];
    if (c1 == 's' || c1 == 'd' || c1 == 'm' || c1 == 't') return pos + 2;
    if (pos + 2 < n) {
      const char c2 = t[pos + 2];
      if ((c1 == 'l' && c2 == 'l') || (c1 == 'v' && c2 == 'e') || (c1 == 'r' && c2 == 'e'))
        return pos + 3;
    }
  }
  size_t len0 = 0;
  CharClass k0 = class_at(t, pos, len0);
  //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+  with the optional space taken
  if (c0 == ' ' && pos + 1 < n) {
    size_t len1 = 0;
    CharClass k1 = class_at(t, pos + 1, len1);
    if (k1 != kSpace) return run_end(t, pos + 1 + len1, k1);
  }
  // the same alternatives without the space
  if (k0 != kSpace) return run_end(t, pos + len0, k0);
  // \s+(?!\S) | \s+
  size_t end = pos + len0, last = len0;
  while (end < n) {
    size_t len = 0;
    if (class_at(t, end, len) != kSpace) break;
    end += len;
    last = len;
  }
  if (end == n) return end;                 // \s+ then end of text: (?!\S) holds
  if (end - pos > last) return end - last;  // give back the last space so it leads the next token
  return end;                               // a single space before \S: \s+
}

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> out;
  for_each_pretoken(text, [&](std::string_view p) { out.push_back(p); });
  return out;
}

bool is_safe_cut(std::string_view text, size_t pos) {
  if (pos == 0 || pos >= text.size() || text[pos] != ' ') return false;
  const auto prev = static_cast<unsigned char>(text[pos - 1]);
  if (prev < 0x80) return detail::kAsciiClass[prev] != kSpace;
  // A multi-byte character must end exactly at pos (input may hold invalid UTF-8 here).
  size_t s = pos - 1;
  while (s > 0 && pos - s < 4 && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
  const auto lead = static_cast<unsigned char>(text[s]);
  const size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (want == 0 || s + want != pos) return false;
  size_t len = 0;
  return char_class(decode_utf8(text, s, len)) != kSpace;
}

SpecialSplitter::SpecialSplitter(std::vector<std::string> specials)
    : specials_(std::move(specials)) {
  for (const auto& s : specials_) SCALELAB_CHECK(!s.empty(), "special tokens must not be empty");
  std::sort(specials_.begin(), specials_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  specials_.erase(std::unique(specials_.begin(), specials_.end()), specials_.end());
  for (const auto& s : specials_)
    if (first_bytes_.find(s[0]) == std::string::npos) first_bytes_.push_back(s[0]);
}

size_t SpecialSplitter::find(std::string_view text, size_t from, size_t& which) const {
  if (specials_.empty()) return std::string_view::npos;
  const size_t n = text.size();
  size_t i = from;
  while (i < n) {
    // Jump to the next byte that can start a special token.
    if (first_bytes_.size() == 1) {
      const void* p = std::memchr(text.data() + i, first_bytes_[0], n - i);
      if (p == nullptr) return std::string_view::npos;
      i = static_cast<size_t>(static_cast<const char*>(p) - text.data());
    } else {
      while (i < n && first_bytes_.find(text[i]) == std::string::npos) ++i;
      if (i >= n) return std::string_view::npos;
    }
    for (size_t k = 0; k < specials_.size(); ++k) {  // longest first
      const std::string& s = specials_[k];
      if (text.compare(i, s.size(), s) == 0) {
        which = k;
        return i;
      }
    }
    ++i;
  }
  return std::string_view::npos;
}

}  // namespace scalelab::tokenizer
