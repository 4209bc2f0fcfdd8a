// GPT-2 pre-tokenization: the pattern
//   '(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with Python `regex` semantics, as a hand-written scanner (one pass, no backtracking engine), plus
// special-token splitting. The PCRE2 implementation in pretokenizer_pcre2.h is the cross-check.
// Input must be valid UTF-8 (validate first: unicode.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/unicode.h"

namespace scalelab::tokenizer {

// End (byte offset) of the pre-token that starts at `pos` (< text.size()).
size_t next_pretoken_end(std::string_view text, size_t pos);

// Calls f(piece) for every pre-token of text, in order.
template <typename F>
void for_each_pretoken(std::string_view text, F&& f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = next_pretoken_end(text, pos);
    f(text.substr(pos, end - pos));
    pos = end;
  }
}

std::vector<std::string_view> pretokenize(std::string_view text);

// Whether a chunk may be cut at byte `pos` without changing the pre-tokens: text[pos] is ' ' and
// text[pos−1] is not White_Space (the token before ends there; the one after starts there in the
// whole text too, since the pattern has no look-behind).
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
