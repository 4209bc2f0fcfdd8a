// Causal multi-head (or grouped-query) self-attention with RoPE, the pre-norm block and
// TransformerLM: embedding → n_layers × block → final RMSNorm → LM head (optionally tied to the
// embedding). Shapes come from accounting::ModelShape, and the parameter count equals accounting's
// (test).
#pragma once

#include <torch/torch.h>

#include <string_view>

#include "accounting/model_shape.h"
#include "model/layers.h"

namespace scalelab::model {

enum class AttentionImpl {
  kAuto,   // fused at::scaled_dot_product_attention on LibTorch >= 2 (flash/cuDNN/efficient), else
           // plain
  kPlain,  // explicit softmax(QKᵀ/√d)V with a boolean causal mask (the reference)
};
AttentionImpl parse_attention_impl(std::string_view s);  // auto | plain
std::string_view to_string(AttentionImpl a);
bool fused_attention_available();  // compiled against LibTorch >= 2

struct ModelOptions {
  double rope_theta = 10000.0;
  AttentionImpl attention = AttentionImpl::kAuto;
};

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  CausalSelfAttentionImpl(const accounting::ModelShape& shape, const ModelOptions& options);
  // x: (B, T, d_model), positions: (T) → (B, T, d_model).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions);
  Linear qkv{nullptr};  // fused Q, K, V projection: d_model → d_model + 2·kv_dim
  Linear out{nullptr};
  RotaryEmbedding rope{nullptr};  // null when shape.rope is false

 private:
  int64_t n_heads_, n_kv_heads_, head_dim_;
  AttentionImpl impl_;
};
TORCH_MODULE(CausalSelfAttention);

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const accounting::ModelShape& shape, const ModelOptions& options);
  // x: (B, T, d_model) → (B, T, d_model): x + attn(norm(x)), then x + ffn(norm(x)).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions);
  // The same block on the residual stream x with the previous block's FFN output `pending` not yet
  // added (undefined for the first block): returns {stream after attention, this block's FFN
  // output}, which the next norm adds. Each residual add then runs inside a norm (one kernel on
  // CUDA, fused.h); the model's forward chains blocks this way.
  std::pair<torch::Tensor, torch::Tensor> forward_residual(const torch::Tensor& x,
                                                           const torch::Tensor& pending,
                                                           const torch::Tensor& positions);
  RMSNorm ln1{nullptr}, ln2{nullptr};
  CausalSelfAttention attn{nullptr};
  SwiGLU swiglu{nullptr};
  GeluMlp gelu{nullptr};
};
TORCH_MODULE(Block);

class TransformerLMImpl : public torch::nn::Module {
 public:
  TransformerLMImpl(const accounting::ModelShape& shape, const ModelOptions& options = {});
  // ids: (B, T) int64, T <= context_length → logits (B, T, vocab_size).
  torch::Tensor forward(const torch::Tensor& ids);
  // The two halves of forward: the final norm's output (B, T, d), and the head on it.
  torch::Tensor hidden(const torch::Tensor& ids);
  torch::Tensor head(const torch::Tensor& x);
  int64_t num_parameters() const;
  const accounting::ModelShape& shape() const { return shape_; }
  const ModelOptions& options() const { return options_; }

  Embedding embedding{nullptr};
  torch::nn::ModuleList layers;
  RMSNorm ln_final{nullptr};
  Linear lm_head{nullptr};  // null when tied: the embedding matrix is the head, applied to
                            // x / √d_model (T5's tied-softmax scaling)

 private:
  accounting::ModelShape shape_;
  ModelOptions options_;
};
TORCH_MODULE(TransformerLM);

}  // namespace scalelab::model
