// The pre-tokenizer scanners, one per pattern. Each branch below is one alternative of the
// pattern, tried in the pattern's order; the comments name it and, where backtracking decides the
// result, say how. Speed: ASCII bytes are classified by a flat table; only non-ASCII code points
// consult the two-stage Unicode table.
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

inline uint8_t flags_at(std::string_view t, size_t i, size_t& len) {
  const auto b = static_cast<unsigned char>(t[i]);
  if (b < 0x80) {
    len = 1;
    return detail::kAsciiFlags[b];
  }
  return char_flags(decode_utf8(t, i, len));
}

// End of the run of characters with `flag` starting at i.
inline size_t flag_run_end(std::string_view t, size_t i, uint8_t flag) {
  const size_t n = t.size();
  while (i < n) {
    size_t len = 0;
    if (!(flags_at(t, i, len) & flag)) return i;
    i += len;
  }
  return n;
}

inline bool is_newline(char c) { return c == '\r' || c == '\n'; }

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at t[pos]: its end, or 0. Case-insensitive as Unicode simple case
// folding makes it in Rust's regex and PCRE2: 's' also matches U+017F ſ (no other character folds
// to one of these letters).
inline size_t contraction_ci_end(std::string_view t, size_t pos) {
  const size_t n = t.size();
  if (pos + 1 >= n || t[pos] != '\'') return 0;
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  const char c1 = lower(t[pos + 1]);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return pos + 2;
  if (pos + 2 < n && t[pos + 1] == '\xC5' && t[pos + 2] == '\xBF') return pos + 3;  // ſ
  if (pos + 2 < n) {
    const char c2 = lower(t[pos + 2]);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
      return pos + 3;
  }
  return 0;
}

// \p{N}{1,3} from pos (a number).
inline size_t digits_end(std::string_view t, size_t pos, size_t len0) {
  size_t e = pos + len0;
  for (int k = 1; k < 3 && e < t.size(); ++k) {
    size_t len = 0;
    if (class_at(t, e, len) != kNumber) break;
    e += len;
  }
  return e;
}

//  ?[^\s\p{L}\p{N}]+ then [\r\n]* (cl100k, llama3) or [\r\n/]* (o200k), from pos; npos if the
// alternative does not match (the optional space is taken only before an "other" character).
template <bool kSlash>
inline size_t punctuation_end(std::string_view t, size_t pos, CharClass k0, size_t len0) {
  const size_t n = t.size();
  size_t e = std::string_view::npos;
  if (k0 == kOther) {
    e = run_end(t, pos + len0, kOther);
  } else if (t[pos] == ' ' && pos + 1 < n) {
    size_t len1 = 0;
    if (class_at(t, pos + 1, len1) == kOther) e = run_end(t, pos + 1 + len1, kOther);
  }
  if (e == std::string_view::npos) return e;
  while (e < n && (is_newline(t[e]) || (kSlash && t[e] == '/'))) ++e;
  return e;
}

// \s*[\r\n]+ | \s+(?!\S) | \s+ at a White_Space character (cl100k, o200k, llama3). The first:
// greedy \s* backs off until [\r\n]+ can match, so when the run holds a newline the piece ends just
// after its last one. Otherwise as GPT-2's: the whole run at the end of the text, else the run
// less its last character (which then leads the next piece), else (one character) itself.
inline size_t whitespace_end(std::string_view t, size_t pos, size_t len0) {
  const size_t n = t.size();
  size_t end = pos + len0, last = len0, newline_end = is_newline(t[pos]) ? pos + 1 : 0;
  while (end < n) {
    size_t len = 0;
    if (class_at(t, end, len) != kSpace) break;
    if (is_newline(t[end])) newline_end = end + 1;
    end += len;
    last = len;
  }
  if (newline_end != 0) return newline_end;
  if (end == n) return end;
  if (end - pos > last) return end - last;
  return end;
}

// o200k: [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ from s ("upper-ish" U, then
// "lower-ish" W; Lm, Lo and marks are both). Greedy U* takes the whole U run [s, i); if the next
// character is W, W+ runs from it. Otherwise U* backs off to the last W character inside its run
// (the characters after it are U only), and W+ is that one character. npos if neither.
inline size_t upper_lower_end(std::string_view t, size_t s) {
  const size_t n = t.size();
  size_t i = s, last_w = std::string_view::npos, last_w_len = 0;
  while (i < n) {
    size_t len = 0;
    const uint8_t f = flags_at(t, i, len);
    if (!(f & kUpperish)) break;
    if (f & kLowerish) {
      last_w = i;
      last_w_len = len;
    }
    i += len;
  }
  if (i < n) {
    size_t len = 0;
    if (flags_at(t, i, len) & kLowerish) return flag_run_end(t, i + len, kLowerish);
  }
  return last_w == std::string_view::npos ? last_w : last_w + last_w_len;
}

// o200k: [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* from s: the U run, then the W
// run after it; npos if t[s] is not U.
inline size_t upper_then_lower_end(std::string_view t, size_t s) {
  if (s >= t.size()) return std::string_view::npos;
  size_t len = 0;
  if (!(flags_at(t, s, len) & kUpperish)) return std::string_view::npos;
  return flag_run_end(t, flag_run_end(t, s + len, kUpperish), kLowerish);
}

}  // namespace

const char* pattern_regex(Pattern p) {
  switch (p) {
    case Pattern::kGpt2:
      return R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
    case Pattern::kCl100k:
    case Pattern::kLlama3:
      return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    case Pattern::kO200k:
      return R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  }
  return "";
}

std::optional<Pattern> pattern_of_regex(std::string_view regex) {
  // tiktoken's later spelling of r50k/p50k's pattern, and GPT-2's own, are the same regex.
  if (regex == R"('(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)")
    return Pattern::kGpt2;
  for (Pattern p : {Pattern::kGpt2, Pattern::kCl100k, Pattern::kO200k})
    if (regex == pattern_regex(p)) return p;
  return std::nullopt;
}

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

size_t next_pretoken_end_cl100k(std::string_view t, size_t pos) {
  const size_t n = t.size();
  const char c0 = t[pos];
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c0 == '\'')
    if (const size_t e = contraction_ci_end(t, pos)) return e;
  size_t len0 = 0;
  const CharClass k0 = class_at(t, pos, len0);
  // [^\r\n\p{L}\p{N}]?\p{L}+: a letter run, led by at most one character that is not \r, \n, a
  // letter or a number (a space, a tab, an apostrophe, punctuation, a mark)
  if (k0 == kLetter) return run_end(t, pos + len0, kLetter);
  if (k0 != kNumber && !is_newline(c0) && pos + len0 < n) {
    size_t len1 = 0;
    if (class_at(t, pos + len0, len1) == kLetter) return run_end(t, pos + len0 + len1, kLetter);
  }
  // \p{N}{1,3}
  if (k0 == kNumber) return digits_end(t, pos, len0);
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  if (const size_t e = punctuation_end<false>(t, pos, k0, len0); e != std::string_view::npos)
    return e;
  // \s*[\r\n]+ | \s+(?!\S) | \s+
  return whitespace_end(t, pos, len0);
}

size_t next_pretoken_end_o200k(std::string_view t, size_t pos) {
  const size_t n = t.size();
  size_t len0 = 0;
  const CharClass k0 = class_at(t, pos, len0);
  // [^\r\n\p{L}\p{N}]?U*W+(contraction)? | [^\r\n\p{L}\p{N}]?U+W*(contraction)?: the first
  // alternative with the lead character, then without it (a mark can lead or be the word), then
  // the second the same way.
  const bool lead = k0 != kLetter && k0 != kNumber && !is_newline(t[pos]);
  size_t e = lead ? upper_lower_end(t, pos + len0) : std::string_view::npos;
  if (e == std::string_view::npos) e = upper_lower_end(t, pos);
  if (e == std::string_view::npos && lead) e = upper_then_lower_end(t, pos + len0);
  if (e == std::string_view::npos) e = upper_then_lower_end(t, pos);
  if (e != std::string_view::npos) {
    if (e < n && t[e] == '\'')
      if (const size_t c = contraction_ci_end(t, e)) return c;
    return e;
  }
  // \p{N}{1,3}
  if (k0 == kNumber) return digits_end(t, pos, len0);
  //  ?[^\s\p{L}\p{N}]+[\r\n/]*
  if (const size_t p = punctuation_end<true>(t, pos, k0, len0); p != std::string_view::npos)
    return p;
  // \s*[\r\n]+ | \s+(?!\S) | \s+
  return whitespace_end(t, pos, len0);
}

std::vector<std::string_view> pretokenize(std::string_view text, Pattern p) {
  std::vector<std::string_view> out;
  for_each_pretoken(p, text, [&](std::string_view piece) { out.push_back(piece); });
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
