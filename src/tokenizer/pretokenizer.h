// Pre-tokenization: the regex that cuts text into the pieces BPE merges within, one of four
// published patterns (pattern_regex() gives each verbatim), each as a hand-written scanner (one
// pass, no backtracking engine; the comments in pretokenizer.cpp derive each branch from the
// regex), plus special-token splitting. The PCRE2 implementation in pretokenizer_pcre2.h runs the
// regexes themselves and is the cross-check in tests. Input must be valid UTF-8 (validate first:
// unicode.h).
//   gpt2    GPT-2 (and tiktoken's r50k/p50k): letters, numbers, other runs, each with one optional
//           leading space; contractions 's 't … case-sensitive
//   cl100k  tiktoken's cl100k_base (GPT-3.5/4): contractions case-insensitive, a letter run takes
//           any one leading non-letter/number character except \r \n, numbers in groups of 1–3,
//           newlines end whitespace runs
//   o200k   tiktoken's o200k_base (GPT-4o): words split at case changes (CamelCase → Camel, Case),
//           a contraction stays on its word ("don't"), '/' after punctuation joins it
//   llama3  Llama 3's: the same regex as cl100k (Meta's tokenizer.py and tokenizer.json), a name of
//           its own so configs say what they mean
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/fields.h"
#include "tokenizer/unicode.h"

namespace scalelab::tokenizer {

enum class Pattern { kGpt2, kCl100k, kO200k, kLlama3 };

}  // namespace scalelab::tokenizer

template <>
struct scalelab::fields::EnumNames<scalelab::tokenizer::Pattern> {
  using E = scalelab::tokenizer::Pattern;
  static constexpr std::array<std::pair<E, std::string_view>, 4> kNames{
      {{E::kGpt2, "gpt2"}, {E::kCl100k, "cl100k"}, {E::kO200k, "o200k"}, {E::kLlama3, "llama3"}}};
};

namespace scalelab::tokenizer {

// The pattern as published (tiktoken's pat_str; Llama 3's tokenizer.py), Rust/Python regex syntax.
const char* pattern_regex(Pattern p);
// The pattern whose regex is exactly `regex` (a tokenizer.json's Split pattern), if any.
std::optional<Pattern> pattern_of_regex(std::string_view regex);

// End (byte offset) of the pre-token that starts at `pos` (< text.size()), per pattern.
size_t next_pretoken_end(std::string_view text, size_t pos);  // gpt2
size_t next_pretoken_end_cl100k(std::string_view text, size_t pos);
size_t next_pretoken_end_o200k(std::string_view text, size_t pos);

namespace detail {
template <size_t (*End)(std::string_view, size_t), typename F>
void scan_pretokens(std::string_view text, F& f) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = End(text, pos);
    f(text.substr(pos, end - pos));
    pos = end;
  }
}
}  // namespace detail

// Calls f(piece) for every pre-token of text, in order.
template <typename F>
void for_each_pretoken(Pattern p, std::string_view text, F&& f) {
  switch (p) {
    case Pattern::kGpt2:
      return detail::scan_pretokens<next_pretoken_end>(text, f);
    case Pattern::kCl100k:
    case Pattern::kLlama3:
      return detail::scan_pretokens<next_pretoken_end_cl100k>(text, f);
    case Pattern::kO200k:
      return detail::scan_pretokens<next_pretoken_end_o200k>(text, f);
  }
}
template <typename F>
void for_each_pretoken(std::string_view text, F&& f) {
  for_each_pretoken(Pattern::kGpt2, text, f);
}

std::vector<std::string_view> pretokenize(std::string_view text, Pattern p = Pattern::kGpt2);

// Whether a chunk may be cut at byte `pos` without changing the pre-tokens, for every pattern:
// text[pos] is ' ' and text[pos−1] is not White_Space. No pattern has a look-behind, and in none
// does a piece hold a non-space character followed by a space (spaces only lead a piece or sit in
// a run of whitespace), so the piece before ends at pos and the one after starts there.
bool is_safe_cut(std::string_view text, size_t pos);

// Splits text into alternating ordinary segments and special tokens. Matching is leftmost, and at
// one position the longest special wins (so "<|a|><|a|>" gives two tokens and a prefix never
// shadows a longer token). Calls on_text(segment) (possibly empty segments skipped) and
// on_special(index).
class SpecialSplitter {
 public:
  explicit SpecialSplitter(std::vector<std::string> specials);
  const std::vector<std::string>& specials() const { return specials_; }
  bool empty() const { return specials_.empty(); }

  // Position and index of the first special token at or after `from`; returns npos if none.
  size_t find(std::string_view text, size_t from, size_t& which) const;

  template <typename OnText, typename OnSpecial>
  void split(std::string_view text, OnText&& on_text, OnSpecial&& on_special) const {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t which = 0;
      size_t at = find(text, pos, which);
      if (at == std::string_view::npos) {
        on_text(text.substr(pos));
        return;
      }
      if (at > pos) on_text(text.substr(pos, at - pos));
      on_special(which);
      pos = at + specials_[which].size();
    }
  }

 private:
  std::vector<std::string> specials_;  // sorted longest first
  std::string first_bytes_;            // distinct first bytes, for a fast scan
};

}  // namespace scalelab::tokenizer
