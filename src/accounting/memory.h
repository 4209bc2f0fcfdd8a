// Training and inference memory of a ModelShape, tensor by tensor, under a precision policy.
// Static state (weights, fp32 master copy, gradients, AdamW moments) scales with parameters;
// activations saved for backward scale with batch × sequence (Korthikanti et al. 2022 §4 method,
// applied to our block: RMSNorm, RoPE, SwiGLU, no dropout, no biases). The model is a prediction:
// issue 5's benchmark checks it against measured CUDA peaks. Bytes everywhere; GiB = 2^30 bytes.
#pragma once

#include <cstdint>
#include <string_view>

#include "accounting/hardware.h"
#include "accounting/model_shape.h"
#include "common/fields.h"

namespace scalelab::accounting {

enum class Precision {
  kFp32,       // everything fp32: 4 B weights, 4 B grads, 8 B AdamW moments
  kBf16Mixed,  // autocast: fp32 weights are the master copy (4 B), a bf16 working copy of the
               // matmul weights (2 B), fp32 grads (4 B) and moments (8 B); residual stream fp32,
               // matmul activations bf16
  kBf16,       // pure bf16: weights, grads, moments 2 B each; no master copy
};
std::string_view to_string(Precision p);
Precision parse_precision(std::string_view s);  // "fp32" | "bf16-mixed" | "bf16"
// The tensor-core dtype a policy's matmuls run in (for peak FLOP/s): fp32 → fp32, else bf16.
Dtype compute_dtype(Precision p);

struct MemoryOptions {
  int64_t batch_size = 1;  // sequences per step (per GPU)
  int64_t seq_len = 0;     // 0 = context_length
  Precision precision = Precision::kBf16Mixed;
  bool flash_attention = true;  // fused attention: no T×T probabilities saved
  bool recompute = false;       // full activation recomputation (checkpoint every block)
  // The CUDA training path (LibTorch 2.x, scalelab's kernels in src/model/fused.h): the
  // cross-entropy gradient is written in the logits' dtype with no fp32 (N, V) buffer, SwiGLU saves
  // [W1 x | W3 x] and the product only, RMSNorm its input and rstd only.
  bool fused_kernels = false;
  // With fused_kernels and an untied head: the LM head and the loss as one node whose kernel
  // writes the logits' gradient over them (no gradient buffer); fp8_head: that node's matmuls in
  // FP8, saving a one-byte E5M2 gradient (its bf16 logits live only until the loss is computed).
  bool fused_head = true;
  bool fp8_head = false;
};

struct MemoryBreakdown {
  Precision precision = Precision::kBf16Mixed;
  int64_t batch_size = 0, seq_len = 0;
  bool flash_attention = true, recompute = false, fused_kernels = false;
  // Static: bytes for the whole model.
  double weights = 0;       // the weights the forward pass reads (fp32 or bf16)
  double working_copy = 0;  // bf16 copies of matmul weights made by autocast (bf16-mixed only)
  double master_weights =
      0;  // fp32 master copy kept apart from bf16 weights (none in our policies)
  double gradients = 0;
  double optimizer = 0;  // AdamW first and second moments
  double static_total() const {
    return weights + working_copy + master_weights + gradients + optimizer;
  }
  // Activations: per layer per sequence (no recompute) and for the whole batch.
  double activations_per_layer_per_seq = 0;
  double activations_per_layer_per_seq_plain = 0;  // same layer without fused attention
  double activations_per_layer_per_seq_flash = 0;  // same layer with fused attention
  double activations = 0;       // all layers, whole batch, under the chosen recompute policy
  double logits = 0;            // fp32 logits and their gradient (+ bf16 head output if mixed)
  double per_sequence() const;  // activations + logits for one sequence
  double total() const { return static_total() + activations + logits; }
};

MemoryBreakdown estimate_memory(const ModelShape& shape, const MemoryOptions& options);

// KV cache for inference in the given dtype (bytes per element): 2 (K and V) · L · kv_dim · bytes.
double kv_cache_bytes_per_token(const ModelShape& shape, int bytes_per_element = 2);

// The largest batch (sequences) whose training peak fits `capacity_bytes - reserve_bytes`; 0 if
// even the static state does not fit.
int64_t max_batch_size(const ModelShape& shape, MemoryOptions options, double capacity_bytes,
                       double reserve_bytes);

json::Json to_json(const MemoryBreakdown& m);

}  // namespace scalelab::accounting

// One precision vocabulary for accounting, the trainer and the sweep.
template <>
struct scalelab::fields::EnumNames<scalelab::accounting::Precision> {
  using E = scalelab::accounting::Precision;
  static constexpr std::array<std::pair<E, std::string_view>, 3> kNames{
      {{E::kFp32, "fp32"}, {E::kBf16Mixed, "bf16-mixed"}, {E::kBf16, "bf16"}}};
};
