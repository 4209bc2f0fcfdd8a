// Attention, block and language model.
#include "model/transformer.h"

#include <torch/version.h>

#include <cmath>

#include "common/error.h"
#include "model/fused.h"

namespace scalelab::model {

std::string_view to_string(AttentionImpl a) { return a == AttentionImpl::kAuto ? "auto" : "plain"; }

AttentionImpl parse_attention_impl(std::string_view s) {
  if (s == "auto") return AttentionImpl::kAuto;
  if (s == "plain") return AttentionImpl::kPlain;
  SCALELAB_FAIL("attention: expected auto or plain, got '{}'", s);
}

bool fused_attention_available() { return TORCH_VERSION_MAJOR >= 2; }

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const accounting::ModelShape& in,
                                                 const ModelOptions& o)
    : impl_(o.attention) {
  const accounting::ModelShape s = in.resolved();
  n_heads_ = s.n_heads;
  n_kv_heads_ = s.n_kv_heads;
  head_dim_ = s.head_dim();
  qkv = register_module("qkv", Linear(s.d_model, s.d_model + 2 * s.kv_dim()));
  out = register_module("out", Linear(s.d_model, s.d_model));
  if (s.rope)
    rope = register_module("rope", RotaryEmbedding(o.rope_theta, head_dim_, s.context_length));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x,
                                               const torch::Tensor& positions) {
  const int64_t B = x.size(0), T = x.size(1), d = n_heads_ * head_dim_,
                kv = n_kv_heads_ * head_dim_;
  auto qkv_out = qkv(x);  // (B, T, d + 2kv)
  torch::Tensor q, k, v;
  // On CUDA: one kernel splits QKV and rotates q and k (fused.h); below, LibTorch's path.
  if (rope)
    std::tie(q, k, v) = fused_rope_split(qkv_out, n_heads_, n_kv_heads_, rope->cos_cached,
                                         rope->sin_cached, positions);  // (B, T, heads, hd)
  if (q.defined()) {
    q = q.transpose(1, 2);  // (B, H, T, hd)
    k = k.transpose(1, 2);  // (B, Hkv, T, hd)
    v = v.transpose(1, 2);
  } else {
    q = qkv_out.narrow(-1, 0, d).view({B, T, n_heads_, head_dim_}).transpose(1, 2);
    k = qkv_out.narrow(-1, d, kv).view({B, T, n_kv_heads_, head_dim_}).transpose(1, 2);
    // V is copied out so that attention's saved V does not keep the whole QKV output alive (Q and
    // K are saved after RoPE, which makes new tensors): one e·(d + 2kv) buffer per layer is then
    // freed.
    v = qkv_out.narrow(-1, d + kv, kv)
            .view({B, T, n_kv_heads_, head_dim_})
            .transpose(1, 2)
            .contiguous();
    if (rope) {
      q = rope(q, positions);
      k = rope(k, positions);
    }
  }
  if (n_kv_heads_ !=
      n_heads_) {  // grouped-query attention: each K/V head serves n_heads/n_kv_heads heads
    const int64_t rep = n_heads_ / n_kv_heads_;
    k = k.repeat_interleave(rep, 1);  // (B, H, T, hd)
    v = v.repeat_interleave(rep, 1);
  }
  torch::Tensor y;
#if TORCH_VERSION_MAJOR >= 2
  if (impl_ == AttentionImpl::kAuto) {
    y = at::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);  // (B, H, T, hd)
  }
#endif
  if (!y.defined()) {
    auto mask =
        torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(x.device())).tril();
    y = scaled_dot_product_attention(q, k, v, mask);  // (B, H, T, hd)
  }
  return out(y.transpose(1, 2).reshape({B, T, d}));  // (B, T, d)
}

BlockImpl::BlockImpl(const accounting::ModelShape& in, const ModelOptions& o) {
  const accounting::ModelShape s = in.resolved();
  ln1 = register_module("ln1", RMSNorm(s.d_model));
  attn = register_module("attn", CausalSelfAttention(s, o));
  ln2 = register_module("ln2", RMSNorm(s.d_model));
  if (s.ffn == accounting::FfnKind::kSwiGlu)
    swiglu = register_module("ffn", SwiGLU(s.d_model, s.d_ff));
  else
    gelu = register_module("ffn", GeluMlp(s.d_model, s.d_ff));
}

std::pair<torch::Tensor, torch::Tensor> BlockImpl::forward_residual(
    const torch::Tensor& x, const torch::Tensor& pending, const torch::Tensor& positions) {
  auto [h0, y1] = ln1->forward_add(x, pending);              // h0 = x + pending, y1 = norm(h0)
  auto [h, y2] = ln2->forward_add(h0, attn(y1, positions));  // h = h0 + attn(y1)
  return {h, swiglu ? swiglu(y2) : gelu(y2)};
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& positions) {
  auto [h, f] = forward_residual(x, torch::Tensor(), positions);
  return h + f;
}

TransformerLMImpl::TransformerLMImpl(const accounting::ModelShape& in, const ModelOptions& o)
    : shape_(in.resolved()), options_(o) {
  shape_.validate();
  SCALELAB_CHECK(o.rope_theta > 0, "rope_theta: must be positive (got {})", o.rope_theta);
  embedding = register_module("embedding", Embedding(shape_.vocab_size, shape_.d_model));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < shape_.n_layers; ++i) layers->push_back(Block(shape_, o));
  ln_final = register_module("ln_final", RMSNorm(shape_.d_model));
  if (!shape_.tied_embeddings)
    lm_head = register_module("lm_head", Linear(shape_.d_model, shape_.vocab_size));
}

torch::Tensor TransformerLMImpl::hidden(const torch::Tensor& ids) {
  const int64_t T = ids.size(1);
  SCALELAB_CHECK(T <= shape_.context_length, "sequence length {} exceeds the context length {}", T,
                 shape_.context_length);
  auto positions =
      torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(ids.device()));
  auto x = embedding(ids);  // (B, T, d): the residual stream
  torch::Tensor pending;    // the last block's FFN output, added by the next norm
  for (const auto& layer : *layers)
    std::tie(x, pending) = layer->as<Block>()->forward_residual(x, pending, positions);
  return ln_final->forward_add(x, pending).second;  // (B, T, d)
}

torch::Tensor TransformerLMImpl::head(const torch::Tensor& x) {
  if (lm_head) return lm_head(x);  // (B, T, V)
  // Tied head: the embedding rows are initialised with σ = 1, so x·Eᵀ would have logits of
  // standard deviation ≈ √d_model at the start (losses of 50+ for d = 64). Rescaling by
  // d_model^-1/2 as T5 does for its tied softmax (Raffel et al. 2020, Mesh TensorFlow) keeps them
  // ≈ 1.
  return torch::matmul(x * (1.0 / std::sqrt(static_cast<double>(shape_.d_model))),
                       embedding->weight.t());  // (B, T, V)
}

torch::Tensor TransformerLMImpl::forward(const torch::Tensor& ids) { return head(hidden(ids)); }

int64_t TransformerLMImpl::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace scalelab::model
