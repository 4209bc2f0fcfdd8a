// Memory model. Activation bytes per token per block, saved for backward (e = matmul activation
// bytes, r = residual-stream bytes; e = r = 4 for fp32, e = 2 and r = 4 for bf16-mixed, e = r = 2
// for bf16):
//   attention RMSNorm   input r·d + normalised x r·d (saved for the gain's gradient) + fp32 rstd 4
//   QKV matmul input    e·d (the normalised input, cast to the matmul dtype)
//   Q and K after RoPE  e·(d + kv)      V   e·kv
//   attention core      plain: softmax probabilities e·H·T (per token, one row per head)
//                       fused: its output e·d (the O-projection input below is a separate,
//                       transposed copy) plus fp32 log-sum-exp 4·H
//   O-projection input  e·d
//   FFN RMSNorm         the same, 2·r·d + 4
//   FFN input           e·d (shared by W1 and W3)
//   SwiGLU              W1 out, SiLU out, W3 out, product: 4·e·f   (GELU MLP: 3·e·f)
//                       fused kernel (fused_kernels): [W1 out | W3 out] and product: 3·e·f
// With fused_kernels (the CUDA path: LibTorch 2.x's fused RMSNorm and scalelab's kernels) each
// RMSNorm saves r·d + 4 (input, rstd) and the O-projection input is the fused attention's output
// (0 more).
// Residual adds and RoPE (constant cos/sin) save nothing. The final norm saves what the others do
// and the LM head input e·d per token; the logits cost e·V saved + 4·V for the fp32 gradient + e·V
// for its cast back (8·V per token in bf16-mixed, 8·V in fp32), or with the fused cross-entropy
// kernel e·V saved + e·V for the gradient written directly in the logits' dtype (4·V in
// bf16-mixed), or with the fused LM head (untied) e·V: the gradient overwrites the logits
// (3·V with its FP8 matmuls: bf16 logits and the E5M2 gradient at the end of the forward).
#include "accounting/memory.h"

#include <cmath>

#include "accounting/params.h"
#include "common/error.h"

namespace scalelab::accounting {

std::string_view to_string(Precision p) { return fields::enum_name(p); }
Precision parse_precision(std::string_view s) {
  return fields::parse_enum<Precision>(s, "precision");
}

Dtype compute_dtype(Precision p) { return p == Precision::kFp32 ? Dtype::kFp32 : Dtype::kBf16; }

double MemoryBreakdown::per_sequence() const {
  return batch_size > 0 ? (activations + logits) / static_cast<double>(batch_size) : 0.0;
}

MemoryBreakdown estimate_memory(const ModelShape& in, const MemoryOptions& opt) {
  in.validate();
  SCALELAB_CHECK(opt.batch_size > 0, "batch_size: must be positive (got {})", opt.batch_size);
  SCALELAB_CHECK(opt.seq_len >= 0, "seq_len: must be positive, or 0 for context_length (got {})",
                 opt.seq_len);
  const ModelShape s = in.resolved();
  const double T = static_cast<double>(opt.seq_len > 0 ? opt.seq_len : s.context_length);
  const double d = s.d_model, L = s.n_layers, f = s.d_ff, kv = s.kv_dim(), H = s.n_heads,
               V = s.vocab_size, B = opt.batch_size;
  const ParamCounts p = count_params(s);
  const double N = static_cast<double>(p.total), Nmm = static_cast<double>(p.matmul);

  MemoryBreakdown m;
  m.precision = opt.precision;
  m.batch_size = opt.batch_size;
  m.seq_len = static_cast<int64_t>(T);
  m.flash_attention = opt.flash_attention;
  m.recompute = opt.recompute;
  m.fused_kernels = opt.fused_kernels;
  double e = 4, r = 4;
  switch (opt.precision) {
    case Precision::kFp32:
      m.weights = 4 * N;
      m.gradients = 4 * N;
      m.optimizer = 8 * N;
      break;
    case Precision::kBf16Mixed:
      m.weights = 4 * N;  // fp32: these are the master weights the optimizer updates
      m.working_copy = 2 * Nmm;
      m.gradients = 4 * N;
      m.optimizer = 8 * N;
      e = 2;
      break;
    case Precision::kBf16:
      m.weights = 2 * N;
      m.gradients = 2 * N;
      m.optimizer = 4 * N;
      e = r = 2;
      break;
  }
  const double ffn_saved = s.ffn == FfnKind::kSwiGlu && !opt.fused_kernels ? 4 * f : 3 * f;
  // The CUDA path with fused kernels (measured by bench/train_bench.cpp's "forward keeps" line):
  // LibTorch 2.x's fused RMSNorm saves its input and rstd only, and the fused attention's output
  // is the O-projection's input itself, not a copy.
  const double norm_saved = opt.fused_kernels ? r * d + 4 : 2 * r * d + 4;
  const double o_proj_input = opt.fused_kernels && opt.flash_attention ? 0 : e * d;
  // Per token, per block, everything but the attention core's probabilities / log-sum-exp.
  const double common = 2 * norm_saved           // two RMSNorms: input (normalised x), rstd
                        + e * d                  // QKV input
                        + e * (d + kv) + e * kv  // Q, K (rotated), V
                        + o_proj_input           // O-projection input
                        + e * d                  // FFN input
                        + e * ffn_saved;
  const double plain_core = e * H * T;      // softmax probabilities, one T-row per head per token
  const double flash_core = e * d + 4 * H;  // SDPA output + fp32 log-sum-exp per head
  m.activations_per_layer_per_seq_plain = T * (common + plain_core);
  m.activations_per_layer_per_seq_flash = T * (common + flash_core);
  m.activations_per_layer_per_seq = opt.flash_attention ? m.activations_per_layer_per_seq_flash
                                                        : m.activations_per_layer_per_seq_plain;
  const double head_inputs = T * (norm_saved + e * d);  // final norm + LM head input
  if (opt.recompute) {
    // Checkpoint each block's input (r·d per token); during backward one block is rematerialised.
    m.activations = B * (L * T * r * d + m.activations_per_layer_per_seq + head_inputs);
  } else {
    m.activations = B * (L * m.activations_per_layer_per_seq + head_inputs);
  }
  // Saved logits (e·V) + fp32 gradient (4·V) + the gradient in the logits' dtype (e·V, shared when
  // e = 4); the fused kernel writes the gradient in the logits' dtype directly; the fused head
  // writes it over the logits (e·V in all); the FP8 head holds the bf16 logits and the E5M2
  // gradient together at the end of the forward (3·V), then the gradient and its transpose (2·V).
  double logit_bytes = opt.fused_kernels ? 2 * e : e + 4 + (e == 4 ? 0 : e);
  if (opt.fused_kernels && opt.fused_head && !s.tied_embeddings && s.vocab_size % 8 == 0)
    logit_bytes = opt.fp8_head ? 3 : e;
  m.logits = B * T * logit_bytes * V;
  return m;
}

double kv_cache_bytes_per_token(const ModelShape& in, int bytes_per_element) {
  in.validate();
  SCALELAB_CHECK(bytes_per_element > 0, "kv cache bytes per element must be positive");
  return 2.0 * static_cast<double>(in.n_layers) * static_cast<double>(in.kv_dim()) *
         bytes_per_element;
}

int64_t max_batch_size(const ModelShape& shape, MemoryOptions options, double capacity,
                       double reserve) {
  options.batch_size = 1;
  MemoryBreakdown one = estimate_memory(shape, options);
  double free = capacity - reserve - one.static_total();
  if (free <= 0) return 0;
  return static_cast<int64_t>(std::floor(free / one.per_sequence()));
}

json::Json to_json(const MemoryBreakdown& m) {
  json::Json j;
  j["precision"] = std::string(to_string(m.precision));
  j["batch_size"] = m.batch_size;
  j["seq_len"] = m.seq_len;
  j["flash_attention"] = m.flash_attention;
  j["recompute"] = m.recompute;
  j["fused_kernels"] = m.fused_kernels;
  j["bytes"] = {
      {"weights", m.weights},
      {"bf16_working_copy", m.working_copy},
      {"master_weights", m.master_weights},
      {"gradients", m.gradients},
      {"optimizer_moments", m.optimizer},
      {"static_total", m.static_total()},
      {"activations_per_layer_per_sequence", m.activations_per_layer_per_seq},
      {"activations_per_layer_per_sequence_plain_attention", m.activations_per_layer_per_seq_plain},
      {"activations_per_layer_per_sequence_fused_attention", m.activations_per_layer_per_seq_flash},
      {"activations", m.activations},
      {"logits", m.logits},
      {"total", m.total()}};
  j["units"] = "bytes; GiB = 2^30 bytes";
  return j;
}

}  // namespace scalelab::accounting
