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
constexpr const char* kPattern =
    "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^" SCALELAB_WS "\\p{L}\\p{N}]+|[" SCALELAB_WS
    "]+(?![^" SCALELAB_WS "])|[" SCALELAB_WS "]+";

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
  pcre2_code* re = nullptr;
  pcre2_code* letter = nullptr;
  pcre2_code* number = nullptr;
  pcre2_code* space = nullptr;
};

Pcre2Pretokenizer::Pcre2Pretokenizer() : impl_(new Impl) {
  impl_->re = compile(kPattern);
  impl_->letter = compile("^\\p{L}$");
  impl_->number = compile("^\\p{N}$");
  impl_->space = compile("^[" SCALELAB_WS "]$");
}

Pcre2Pretokenizer::~Pcre2Pretokenizer() {
  pcre2_code_free(impl_->re);
  pcre2_code_free(impl_->letter);
  pcre2_code_free(impl_->number);
  pcre2_code_free(impl_->space);
  delete impl_;
}

const char* Pcre2Pretokenizer::pattern() { return kPattern; }

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

int Pcre2Pretokenizer::class_of(char32_t cp) const {
  std::string s;
  append_utf8(s, cp);
  auto is = [&](pcre2_code* re) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(re, nullptr);
    int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md, nullptr);
    pcre2_match_data_free(md);
    return rc >= 0;
  };
  if (is(impl_->space)) return 3;
  if (is(impl_->letter)) return 1;
  if (is(impl_->number)) return 2;
  return 0;
}

}  // namespace scalelab::tokenizer
