// UTF-8 decoding and the three Unicode classes the GPT-2 pattern needs: \p{L} (Lu Ll Lt Lm Lo),
// \p{N} (Nd Nl No) and \s as the White_Space property (Python `regex` semantics; not PCRE2's \s,
// which adds U+180E). A two-stage table is built once from ICU (Unicode 15 with Debian 12's ICU
// 72); ASCII has its own flat table. Also: validation with the byte offset of the first invalid
// sequence, and replacement of invalid sequences by U+FFFD (one per maximal subpart, the
// Unicode-recommended practice).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scalelab::tokenizer {

enum CharClass : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

namespace detail {
// ASCII: letters, digits, and \t \n \v \f \r ' ' as White_Space (U+001C..U+001F are not
// White_Space, although Python's str.isspace() says they are).
constexpr std::array<uint8_t, 128> make_ascii_classes() {
  std::array<uint8_t, 128> t{};
  for (int c = 0; c < 128; ++c) {
    uint8_t v = kOther;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      v = kLetter;
    else if (c >= '0' && c <= '9')
      v = kNumber;
    else if (c == ' ' || (c >= 0x09 && c <= 0x0D))
      v = kSpace;
    t[static_cast<size_t>(c)] = v;
  }
  return t;
}
inline constexpr std::array<uint8_t, 128> kAsciiClass = make_ascii_classes();
CharClass class_of_non_ascii(char32_t cp);
}  // namespace detail

inline CharClass char_class(char32_t cp) {
  return cp < 128 ? static_cast<CharClass>(detail::kAsciiClass[cp])
                  : detail::class_of_non_ascii(cp);
}

// Decodes the code point at s[i] (assumed valid UTF-8); sets len to its byte length.
inline char32_t decode_utf8(std::string_view s, size_t i, size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  if (b0 < 0xE0) {
    len = 2;
    return (char32_t(b0 & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
  }
  if (b0 < 0xF0) {
    len = 3;
    return (char32_t(b0 & 0x0F) << 12) |
           (char32_t(static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3F);
  }
  len = 4;
  return (char32_t(b0 & 0x07) << 18) |
         (char32_t(static_cast<unsigned char>(s[i + 1]) & 0x3F) << 12) |
         (char32_t(static_cast<unsigned char>(s[i + 2]) & 0x3F) << 6) |
         (static_cast<unsigned char>(s[i + 3]) & 0x3F);
}

void append_utf8(std::string& out, char32_t cp);

// Byte offset of the first invalid UTF-8 sequence (overlong, surrogate, > U+10FFFF, truncated), or
// npos.
size_t find_invalid_utf8(std::string_view s);
// Copy with every maximal invalid subpart replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view s);

}  // namespace scalelab::tokenizer
