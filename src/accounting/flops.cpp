// FLOP counting. Products are formed in 128-bit integers and checked to fit in int64, so a shape
// too large for exact accounting is an error rather than a wrapped number.
#include "accounting/flops.h"

#include "common/error.h"

namespace scalelab::accounting {

namespace {
__extension__ typedef __int128 i128;  // GCC/Clang extension; -Wpedantic-clean
int64_t fit(i128 v, const char* what) {
  SCALELAB_CHECK(
      v >= 0 && v <= static_cast<i128>(INT64_MAX),
      "{} FLOPs overflow 64 bits for this shape; reduce context_length or the model size", what);
  return static_cast<int64_t>(v);
}
}  // namespace

std::string_view to_string(AttentionCount a) {
  return a == AttentionCount::kFull ? "full" : "causal";
}

AttentionCount parse_attention_count(std::string_view s) {
  if (s == "full") return AttentionCount::kFull;
  if (s == "causal") return AttentionCount::kCausal;
  SCALELAB_FAIL("unknown attention counting '{}' (expected full or causal)", s);
}

std::vector<FlopEntry> MatmulFlops::entries() const {
  std::vector<FlopEntry> e{
      {"QKV", qkv}, {"QK^T", qk}, {"AV", av}, {"output projection", out_proj}, {"FFN W1", w1}};
  if (w3 != 0) e.push_back({"FFN W3", w3});
  e.push_back({"FFN W2", w2});
  e.push_back({"LM head", lm_head});
  return e;
}

std::vector<FlopEntry> NonMatmulFlops::entries() const {
  return {{"RMSNorm", rmsnorm},
          {"softmax", softmax},
          {"RoPE", rope},
          {"activation + gating", activation},
          {"residual adds", residual},
          {"cross-entropy", cross_entropy}};
}

FlopCounts count_flops(const ModelShape& in, const FlopOptions& opt) {
  in.validate();
  const ModelShape s = in.resolved();
  SCALELAB_CHECK(opt.seq_len >= 0, "seq_len: must be positive, or 0 for context_length (got {})",
                 opt.seq_len);
  const i128 T = opt.seq_len > 0 ? opt.seq_len : s.context_length;
  const i128 V = s.vocab_size, d = s.d_model, L = s.n_layers, f = s.d_ff, kv = s.kv_dim(),
             H = s.n_heads;
  // Score entries per head: T² (full) or the unmasked triangle T(T+1)/2 (causal).
  const i128 scores = opt.attention == AttentionCount::kFull ? T * T : T * (T + 1) / 2;

  FlopCounts c;
  c.seq_len = static_cast<int64_t>(T);
  c.attention = opt.attention;
  MatmulFlops& m = c.matmul;
  m.qkv = fit(2 * T * d * (d + 2 * kv) * L, "QKV");
  // Each head: (T×hd)(hd×T) for scores and (T×T)(T×hd) for AV; summed over heads hd·H = d.
  m.qk = fit(2 * scores * d * L, "QK^T");
  m.av = fit(2 * scores * d * L, "AV");
  m.out_proj = fit(2 * T * d * d * L, "output projection");
  m.w1 = fit(2 * T * d * f * L, "FFN W1");
  m.w3 = s.ffn == FfnKind::kSwiGlu ? m.w1 : 0;
  m.w2 = m.w1;
  m.lm_head = fit(2 * T * d * V, "LM head");
  fit(static_cast<i128>(m.attention()) + m.ffn() + m.lm_head, "total");

  NonMatmulFlops& n = c.non_matmul;
  n.rmsnorm = fit((2 * L + 1) * T * (4 * d + 3), "RMSNorm");
  n.softmax = fit(6 * H * scores * L, "softmax");
  n.rope = s.rope ? fit(3 * T * (d + kv) * L, "RoPE") : 0;
  n.activation = fit((s.ffn == FfnKind::kSwiGlu ? 5 : 8) * T * f * L, "activation");
  n.residual = fit(2 * T * d * L, "residual");
  n.cross_entropy = fit(T * (4 * V + 2), "cross-entropy");

  const double Td = static_cast<double>(T);
  c.forward_per_token = static_cast<double>(m.total()) / Td;
  c.backward_per_token = 2.0 * c.forward_per_token;
  c.training_per_token = 3.0 * c.forward_per_token;

  ParamCounts p = count_params(s);
  c.six_n_per_token = 6.0 * static_cast<double>(p.total);
  c.six_n_nonembed_per_token = 6.0 * static_cast<double>(p.non_embedding);
  // PaLM: 6N + 12·L·H·Q·T with H·Q = n_heads·head_dim = d_model and T the sequence length.
  c.palm_per_token = 6.0 * static_cast<double>(p.matmul) +
                     12.0 * static_cast<double>(L) * static_cast<double>(d) * Td;
  c.adamw_step = fit(static_cast<i128>(kAdamwFlopsPerParam) * p.total, "AdamW");
  return c;
}

double training_flops(const FlopCounts& f, double tokens) { return f.training_per_token * tokens; }

json::Json to_json(const FlopCounts& f) {
  json::Json j;
  j["seq_len"] = f.seq_len;
  j["attention"] = std::string(to_string(f.attention));
  json::Json mm;
  for (const auto& e : f.matmul.entries()) mm[e.name] = e.flops;
  mm["FFN"] = f.matmul.ffn();
  mm["total"] = f.matmul.total();
  j["forward_matmul_per_sequence"] = mm;
  json::Json nm;
  for (const auto& e : f.non_matmul.entries()) nm[e.name] = e.flops;
  nm["total"] = f.non_matmul.total();
  j["forward_non_matmul_per_sequence"] = nm;
  j["per_token"] = {{"forward", f.forward_per_token},
                    {"backward", f.backward_per_token},
                    {"training", f.training_per_token},
                    {"six_n", f.six_n_per_token},
                    {"six_n_non_embedding", f.six_n_nonembed_per_token},
                    {"palm", f.palm_per_token}};
  j["adamw_step"] = f.adamw_step;
  j["conventions"] = {{"matmul", "(m×n)(n×p) = 2mnp FLOPs"},
                      {"attention", f.attention == AttentionCount::kFull
                                        ? "full T×T score matrix"
                                        : "causal triangle, T(T+1)/2 scores per head"},
                      {"backward", "2 × forward (matmul)"},
                      {"non_matmul", "forward only, reported separately, not included in totals"},
                      {"palm", "6·N_matmul + 12·L·H·Q·T per token"}};
  return j;
}

}  // namespace scalelab::accounting
