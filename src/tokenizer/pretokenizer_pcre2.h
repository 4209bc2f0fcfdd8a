// An independent implementation of pre-tokenization on PCRE2 (JIT): the published regex of each
// pattern (pattern_regex()) run by a regex engine, used by tests to cross-check the hand-written
// scanners. PCRE2's \s would also match U+180E, so \s and \S are rewritten to spell out Unicode
// White_Space (what Python's `regex` and Rust's `regex` mean by them); nothing else is changed.
// Note PCRE2 10.42 carries Unicode 14 tables and ICU 72 Unicode 15: the few code points assigned in
// between may classify differently (class_of() lets tests skip them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pretokenizer.h"

namespace scalelab::tokenizer {

class Pcre2Pretokenizer {
 public:
  explicit Pcre2Pretokenizer(Pattern p = Pattern::kGpt2);
  ~Pcre2Pretokenizer();
  Pcre2Pretokenizer(const Pcre2Pretokenizer&) = delete;
  Pcre2Pretokenizer& operator=(const Pcre2Pretokenizer&) = delete;

  std::vector<std::string_view> pretokenize(std::string_view text) const;
  // PCRE2's class of one code point: 1 letter, 2 number, 3 White_Space (as spelled), 0 other.
  int class_of(char32_t cp) const;
  // The same with o200k's two case sets as bits, comparable to char_flags() (unicode.h).
  int flags_of(char32_t cp) const;

  // The regex as compiled (pattern_regex() with \s and \S spelled out).
  const std::string& pattern() const;
  // That rewrite of a regex.
  static std::string spell_out_white_space(std::string_view regex);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace scalelab::tokenizer
