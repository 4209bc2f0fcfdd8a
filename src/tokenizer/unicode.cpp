// Unicode class tables (from ICU, built once) and UTF-8 validation/replacement.
#include "tokenizer/unicode.h"

#include <unicode/uchar.h>

#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace scalelab::tokenizer {

namespace detail {

namespace {
// Two-stage table over all 0x110000 code points: stage1 maps each 256-code-point block to a
// deduplicated stage2 block of classes.
struct Tables {
  std::vector<uint16_t> stage1;
  std::vector<uint8_t> stage2;
};

const Tables& tables() {
  static const Tables tables_once = [] {
    Tables t;
    t.stage1.resize(0x110000 >> 8);
    std::vector<std::array<uint8_t, 256>> blocks;
    for (uint32_t hi = 0; hi < (0x110000 >> 8); ++hi) {
      std::array<uint8_t, 256> b{};
      for (uint32_t lo = 0; lo < 256; ++lo) {
        const auto cp = static_cast<UChar32>((hi << 8) | lo);
        uint8_t v = kOther;
        if (u_isUWhiteSpace(cp)) {
          v = kSpace;
        } else {
          switch (u_charType(cp)) {
            case U_UPPERCASE_LETTER:
            case U_TITLECASE_LETTER:
              v = static_cast<uint8_t>(kLetter | kUpperish);
              break;
            case U_LOWERCASE_LETTER:
              v = static_cast<uint8_t>(kLetter | kLowerish);
              break;
            case U_MODIFIER_LETTER:
            case U_OTHER_LETTER:
              v = static_cast<uint8_t>(kLetter | kUpperish | kLowerish);
              break;
            case U_NON_SPACING_MARK:
            case U_ENCLOSING_MARK:
            case U_COMBINING_SPACING_MARK:
              v = static_cast<uint8_t>(kOther | kUpperish | kLowerish);
              break;
            case U_DECIMAL_DIGIT_NUMBER:
            case U_LETTER_NUMBER:
            case U_OTHER_NUMBER:
              v = kNumber;
              break;
            default:
              break;
          }
        }
        b[lo] = v;
      }
      size_t idx = 0;
      for (; idx < blocks.size(); ++idx)
        if (blocks[idx] == b) break;
      if (idx == blocks.size()) blocks.push_back(b);
      t.stage1[hi] = static_cast<uint16_t>(idx);
    }
    t.stage2.resize(blocks.size() * 256);
    for (size_t i = 0; i < blocks.size(); ++i)
      std::copy(blocks[i].begin(), blocks[i].end(),
                t.stage2.begin() + static_cast<std::ptrdiff_t>(i * 256));
    return t;
  }();
  return tables_once;
}
}  // namespace

uint8_t flags_of_non_ascii(char32_t cp) {
  if (cp >= 0x110000) return kOther;
  const Tables& t = tables();
  return t.stage2[(static_cast<size_t>(t.stage1[cp >> 8]) << 8) | (cp & 0xFF)];
}

}  // namespace detail

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {
// Length of the valid sequence at s[i], or 0 with `subpart` = bytes of the maximal invalid subpart
// (at least 1), per Unicode §3.9 (Table 3-7, well-formed byte sequences).
size_t valid_len(std::string_view s, size_t i, size_t& subpart) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  subpart = 1;
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    need = 1;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) {
      subpart = k;
      return 0;
    }
    unsigned char x = b(i + k);
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (x < l || x > h) {
      subpart = k;
      return 0;
    }
  }
  return need + 1;
}
}  // namespace

size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    size_t sub = 0;
    size_t len = valid_len(s, i, sub);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t sub = 0;
    size_t len = valid_len(s, i, sub);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      i += sub;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace scalelab::tokenizer
