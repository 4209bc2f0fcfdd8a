// UTF-8 decoding and the Unicode classes the pre-tokenizer patterns need: \p{L} (Lu Ll Lt Lm Lo),
// \p{N} (Nd Nl No) and \s as the White_Space property (Python `regex` and Rust `regex` semantics;
// not PCRE2's \s, which adds U+180E), plus o200k's two letter-case sets [\p{Lu}\p{Lt}\p{Lm}\p{Lo}
// \p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}] (marks are in both but are not \p{L}). A two-stage table
// is built once from ICU (Unicode 15 with Debian 12's ICU 72); ASCII has its own flat tables. Also:
// validation with the byte offset of the first invalid sequence, and replacement of invalid
// sequences by U+FFFD (one per maximal subpart, the Unicode-recommended practice).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scalelab::tokenizer {

enum CharClass : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };
// char_flags(): the class in the low two bits, and these.
inline constexpr uint8_t kClassMask = 3;
inline constexpr uint8_t kUpperish = 4;  // o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
inline constexpr uint8_t kLowerish = 8;  // o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}]

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
constexpr std::array<uint8_t, 128> make_ascii_flags() {
  std::array<uint8_t, 128> t = make_ascii_classes();
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] |= kUpperish;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] |= kLowerish;
  return t;
}
inline constexpr std::array<uint8_t, 128> kAsciiFlags = make_ascii_flags();
uint8_t flags_of_non_ascii(char32_t cp);
inline CharClass class_of_non_ascii(char32_t cp) {
  return static_cast<CharClass>(flags_of_non_ascii(cp) & kClassMask);
}
}  // namespace detail

inline CharClass char_class(char32_t cp) {
  return cp < 128 ? static_cast<CharClass>(detail::kAsciiClass[cp])
                  : detail::class_of_non_ascii(cp);
}
inline uint8_t char_flags(char32_t cp) {
  return cp < 128 ? detail::kAsciiFlags[cp] : detail::flags_of_non_ascii(cp);
}

// Decodes the code point at s[i]; sets len to its byte length. Any bytes decode, within s: a lead
// byte that starts no sequence, or a sequence cut short by the end of s or by a byte that is not a
// continuation, is one byte of U+FFFD (found by fuzzing: the pre-tokenizer read past the end of an
// encoded text that ended in a lead byte). Overlong forms and surrogates decode as written; use
// find_invalid_utf8 to refuse them.
inline char32_t decode_utf8(std::string_view s, size_t i, size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  const size_t n = b0 < 0xC0 ? 0 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : b0 < 0xF8 ? 4 : 0;
  const auto cont = [&](size_t k) { return static_cast<unsigned char>(s[i + k]) & 0x3F; };
  bool ok = n != 0 && n <= s.size() - i;
  for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  if (!ok) {
    len = 1;
    return 0xFFFD;
  }
  len = n;
  if (n == 2) return (char32_t(b0 & 0x1F) << 6) | cont(1);
  if (n == 3) return (char32_t(b0 & 0x0F) << 12) | (char32_t(cont(1)) << 6) | cont(2);
  return (char32_t(b0 & 0x07) << 18) | (char32_t(cont(1)) << 12) | (char32_t(cont(2)) << 6) |
         cont(3);
}

void append_utf8(std::string& out, char32_t cp);

// Byte offset of the first invalid UTF-8 sequence (overlong, surrogate, > U+10FFFF, truncated), or
// npos.
size_t find_invalid_utf8(std::string_view s);
// Copy with every maximal invalid subpart replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view s);

}  // namespace scalelab::tokenizer
