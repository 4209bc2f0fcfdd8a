// PCRE2 reference pre-tokenizer (tests only; not on any hot path).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer_pcre2.h"

#include <pcre2.h>

#include "common/error.h"
#include "tokenizer/unicode.h"

namespace scalelab::tokenizer {

namespace {
#define SCALELAB_WS                                                                               \
  "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{" \
  "205F}\\x{3000}"
pcre2_code* compile(const char* pat) {
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat), PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    SCALELAB_FAIL("PCRE2 pattern error at {}: {}", off, reinterpret_cast<char*>(buf));
  }
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable
  return re;
}
}  // namespace

struct Pcre2Pretokenizer::Impl {
  std::string pattern;
  pcre2_code* re = nullptr;
  pcre2_code* letter = nullptr;
  pcre2_code* number = nullptr;
  pcre2_code* space = nullptr;
  pcre2_code* upperish = nullptr;
  pcre2_code* lowerish = nullptr;
};

std::string Pcre2Pretokenizer::spell_out_white_space(std::string_view regex) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\' && i + 1 < regex.size()) {
      const char e = regex[++i];
      if (e == 's')
        out += in_class ? SCALELAB_WS : "[" SCALELAB_WS "]";
      else if (e == 'S') {
        SCALELAB_CHECK(!in_class, "spell_out_white_space: \\S inside a class is not supported");
        out += "[^" SCALELAB_WS "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < regex.size() && regex[i + 1] == '^') out += regex[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

Pcre2Pretokenizer::Pcre2Pretokenizer(Pattern p) : impl_(new Impl) {
  impl_->pattern = spell_out_white_space(pattern_regex(p));
  impl_->re = compile(impl_->pattern.c_str());
  impl_->letter = compile("^\\p{L}$");
  impl_->number = compile("^\\p{N}$");
  impl_->space = compile("^[" SCALELAB_WS "]$");
  impl_->upperish = compile("^[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]$");
  impl_->lowerish = compile("^[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]$");
}

Pcre2Pretokenizer::~Pcre2Pretokenizer() {
  pcre2_code_free(impl_->re);
  pcre2_code_free(impl_->letter);
  pcre2_code_free(impl_->number);
  pcre2_code_free(impl_->space);
  pcre2_code_free(impl_->upperish);
  pcre2_code_free(impl_->lowerish);
  delete impl_;
}

const std::string& Pcre2Pretokenizer::pattern() const { return impl_->pattern; }

std::vector<std::string_view> Pcre2Pretokenizer::pretokenize(std::string_view text) const {
  std::vector<std::string_view> out;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->re, nullptr);
  PCRE2_SIZE pos = 0;
  while (pos < text.size()) {
    int rc = pcre2_match(impl_->re, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos,
                         PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    SCALELAB_CHECK(ov[0] == pos, "PCRE2 pre-tokenizer skipped input at byte {}", pos);
    out.push_back(text.substr(ov[0], ov[1] - ov[0]));
    pos = ov[1];
  }
  pcre2_match_data_free(md);
  return out;
}

namespace {
bool matches_whole(pcre2_code* re, char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(re, nullptr);
  const int rc =
      pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md, nullptr);
  pcre2_match_data_free(md);
  return rc >= 0;
}
}  // namespace

int Pcre2Pretokenizer::class_of(char32_t cp) const {
  if (matches_whole(impl_->space, cp)) return 3;
  if (matches_whole(impl_->letter, cp)) return 1;
  if (matches_whole(impl_->number, cp)) return 2;
  return 0;
}

int Pcre2Pretokenizer::flags_of(char32_t cp) const {
  return class_of(cp) | (matches_whole(impl_->upperish, cp) ? kUpperish : 0) |
         (matches_whole(impl_->lowerish, cp) ? kLowerish : 0);
}

}  // namespace scalelab::tokenizer
