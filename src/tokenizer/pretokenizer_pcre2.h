// An independent implementation of GPT-2 pre-tokenization on PCRE2 (JIT), used by tests to
// cross-check the hand-written scanner. PCRE2's \s would also match U+180E, so the pattern spells
// out Unicode White_Space instead. Note PCRE2 10.42 carries Unicode 14 tables and ICU 72 Unicode
// 15: the few code points assigned in between may classify differently (class_of() lets tests skip
// them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scalelab::tokenizer {

class Pcre2Pretokenizer {
 public:
  Pcre2Pretokenizer();
  ~Pcre2Pretokenizer();
  Pcre2Pretokenizer(const Pcre2Pretokenizer&) = delete;
  Pcre2Pretokenizer& operator=(const Pcre2Pretokenizer&) = delete;

  std::vector<std::string_view> pretokenize(std::string_view text) const;
  // PCRE2's class of one code point: 1 letter, 2 number, 3 White_Space (as spelled), 0 other.
  int class_of(char32_t cp) const;

  static const char* pattern();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace scalelab::tokenizer
