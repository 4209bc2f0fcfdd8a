// Exact FLOP accounting for one forward pass over a sequence of T tokens, by matmul, plus the
// non-matmul operations listed separately, and the training totals derived from them.
// Conventions (docs/accounting.md cites each):
//   - a matmul (m×n)(n×p) costs 2·m·n·p FLOPs (one multiply and one add per term; Kaplan et al.
//   2020);
//   - attention FLOPs count either the full T×T score matrix (AttentionCount::kFull, the CS336 and
//     PaLM convention) or only the unmasked causal triangle, T(T+1)/2 entries (kCausal);
//   - backward = 2 × forward (Kaplan et al. 2020, Hoffmann et al. 2022 App. F), training = 3 ×
//   forward;
//   - non-matmul FLOPs use the per-element operation counts documented on NonMatmulFlops; they are
//     reported beside the matmul totals, never folded into them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accounting/model_shape.h"
#include "accounting/params.h"

namespace scalelab::accounting {

enum class AttentionCount { kFull, kCausal };
std::string_view to_string(AttentionCount a);
AttentionCount parse_attention_count(std::string_view s);  // "full" | "causal"

struct FlopEntry {
  std::string name;   // "QKV", "QK^T", …
  int64_t flops = 0;  // per sequence, all layers
};

struct MatmulFlops {
  int64_t qkv = 0, qk = 0, av = 0, out_proj = 0, w1 = 0, w3 = 0, w2 = 0, lm_head = 0;
  int64_t ffn() const { return w1 + w3 + w2; }
  int64_t attention() const { return qkv + qk + av + out_proj; }
  int64_t total() const { return attention() + ffn() + lm_head; }
  std::vector<FlopEntry> entries() const;
};

// Per-element operation counts (per sequence, forward, all layers):
//   rmsnorm       4 per element (square, accumulate, scale by 1/rms, gain) + 3 per row (mean, +eps,
//   rsqrt);
//                 2 norms per block + the final norm
//   softmax       6 per score (1/√d_k scale, max, subtract, exp, sum, divide), per head
//   rope          3 per rotated element (x·cos + rot(x)·sin) over Q and K
//   activation    SwiGLU: SiLU 4 (exp, add, reciprocal, multiply) + gate 1 = 5 per hidden element;
//                 GELU (tanh form): 8 per hidden element
//   residual      1 per element, 2 adds per block
//   cross_entropy 4 per logit (max, subtract, exp, sum) + 2 per token (log, pick target)
struct NonMatmulFlops {
  int64_t rmsnorm = 0, softmax = 0, rope = 0, activation = 0, residual = 0, cross_entropy = 0;
  int64_t total() const { return rmsnorm + softmax + rope + activation + residual + cross_entropy; }
  std::vector<FlopEntry> entries() const;
};

struct FlopOptions {
  AttentionCount attention = AttentionCount::kFull;
  int64_t seq_len = 0;  // 0 = the model's context_length
};

struct FlopCounts {
  int64_t seq_len = 0;
  AttentionCount attention = AttentionCount::kFull;
  MatmulFlops matmul;         // forward, per sequence
  NonMatmulFlops non_matmul;  // forward, per sequence
  // Per token (matmul only): forward, backward (2× forward), training (3× forward).
  double forward_per_token = 0, backward_per_token = 0, training_per_token = 0;
  // Per token, published approximations for comparison:
  double six_n_per_token = 0;           // 6 · N_total (Hoffmann et al. 2022 "C ≈ 6ND")
  double six_n_nonembed_per_token = 0;  // 6 · N_non-embedding (Kaplan et al. 2020)
  double palm_per_token = 0;  // 6 · N_matmul + 12·L·H·Q·T (Chowdhery et al. 2022 App. B)
  int64_t adamw_step = 0;     // FLOPs of one AdamW update over all parameters
};

// FLOPs of one AdamW update per parameter (weight decay 2, m 3, v 4, bias-corrected denominator 3,
// update 3), following torch.optim.AdamW's non-fused arithmetic.
inline constexpr int64_t kAdamwFlopsPerParam = 15;

FlopCounts count_flops(const ModelShape& shape, const FlopOptions& options = {});
// Training FLOPs (matmul, exact) for D tokens: training_per_token · D.
double training_flops(const FlopCounts& f, double tokens);

json::Json to_json(const FlopCounts& f);

}  // namespace scalelab::accounting
