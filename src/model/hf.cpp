#include "model/hf.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "common/error.h"
#include "interop/hf_llama.h"

namespace scalelab::model {

namespace {

// The rows of a q or k projection in HF's order (rotate-half pairs) from ours (adjacent pairs),
// and back.
torch::Tensor permute_rows(const torch::Tensor& w, int64_t heads, int64_t head_dim, bool to_hf) {
  const auto rows = interop::rope_rows_ours_for_hf(heads, head_dim);
  auto index = torch::tensor(rows, torch::kLong);
  if (to_hf) return w.index_select(0, index);
  auto out = torch::empty_like(w);
  out.index_copy_(0, index, w);  // out[rows[i]] = w[i]
  return out;
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> to_hf_tensors(TransformerLM& m,
                                                                 torch::ScalarType dtype) {
  SCALELAB_CHECK(dtype == torch::kFloat32 || dtype == torch::kBFloat16,
                 "export: dtype must be fp32 or bf16");
  const accounting::ModelShape s = m->shape().resolved();
  interop::llama_config({.shape = s}, "float32", std::nullopt);  // throws for GELU, no RoPE
  const int64_t d = s.d_model, kv = s.kv_dim(), hd = s.head_dim();
  torch::NoGradGuard ng;
  std::vector<std::pair<std::string, torch::Tensor>> out;
  auto put = [&](std::string name, const torch::Tensor& t) {
    out.emplace_back(std::move(name), t.detach().to(torch::kCPU).to(dtype).contiguous());
  };
  put("model.embed_tokens.weight", m->embedding->weight);
  for (int64_t i = 0; i < s.n_layers; ++i) {
    auto& b = *m->layers[static_cast<size_t>(i)]->as<BlockImpl>();
    const auto qkv = b.attn->qkv->weight;  // (d + 2kv, d): [q; k; v]
    put(interop::hf_layer_name(i, "input_layernorm"), b.ln1->weight);
    put(interop::hf_layer_name(i, "self_attn.q_proj"),
        permute_rows(qkv.narrow(0, 0, d), s.n_heads, hd, true));
    put(interop::hf_layer_name(i, "self_attn.k_proj"),
        permute_rows(qkv.narrow(0, d, kv), s.resolved_n_kv_heads(), hd, true));
    put(interop::hf_layer_name(i, "self_attn.v_proj"), qkv.narrow(0, d + kv, kv));
    put(interop::hf_layer_name(i, "self_attn.o_proj"), b.attn->out->weight);
    put(interop::hf_layer_name(i, "post_attention_layernorm"), b.ln2->weight);
    put(interop::hf_layer_name(i, "mlp.gate_proj"), b.swiglu->w1->weight);
    put(interop::hf_layer_name(i, "mlp.up_proj"), b.swiglu->w3->weight);
    put(interop::hf_layer_name(i, "mlp.down_proj"), b.swiglu->w2->weight);
  }
  put("model.norm.weight", m->ln_final->weight);
  if (m->lm_head)
    put("lm_head.weight", m->lm_head->weight);
  else  // scalelab's tied head is x·Eᵀ/√d: as its own matrix, E/√d (in fp32, then dtype)
    put("lm_head.weight", m->embedding->weight / std::sqrt(static_cast<double>(d)));
  return out;
}

void load_hf_tensors(TransformerLM& m, bool hf_tied,
                     const std::function<torch::Tensor(const std::string&)>& get) {
  const accounting::ModelShape s = m->shape().resolved();
  SCALELAB_CHECK(m->lm_head, "import-hf: the model must be untied (a Llama head is unscaled)");
  const int64_t d = s.d_model, kv = s.kv_dim(), hd = s.head_dim();
  torch::NoGradGuard ng;
  auto take = [&](const std::string& name, const torch::Tensor& into) {
    auto t = get(name);
    SCALELAB_CHECK(t.sizes() == into.sizes(),
                   "import-hf: tensor {} has shape {} but the config "
                   "needs {}",
                   name, fmt::format("{}", fmt::join(t.sizes(), "×")),
                   fmt::format("{}", fmt::join(into.sizes(), "×")));
    SCALELAB_CHECK(torch::isfinite(t).all().item<bool>(),
                   "import-hf: tensor {} has NaN or "
                   "infinite values",
                   name);
    return t.to(torch::kFloat32);
  };
  auto set = [&](const std::string& name, torch::Tensor& param) { param.copy_(take(name, param)); };
  set("model.embed_tokens.weight", m->embedding->weight);
  for (int64_t i = 0; i < s.n_layers; ++i) {
    auto& b = *m->layers[static_cast<size_t>(i)]->as<BlockImpl>();
    auto qkv = b.attn->qkv->weight;
    set(interop::hf_layer_name(i, "input_layernorm"), b.ln1->weight);
    const auto q_name = interop::hf_layer_name(i, "self_attn.q_proj");
    qkv.narrow(0, 0, d).copy_(
        permute_rows(take(q_name, qkv.narrow(0, 0, d)), s.n_heads, hd, false));
    const auto k_name = interop::hf_layer_name(i, "self_attn.k_proj");
    qkv.narrow(0, d, kv).copy_(
        permute_rows(take(k_name, qkv.narrow(0, d, kv)), s.resolved_n_kv_heads(), hd, false));
    qkv.narrow(0, d + kv, kv)
        .copy_(take(interop::hf_layer_name(i, "self_attn.v_proj"), qkv.narrow(0, d + kv, kv)));
    set(interop::hf_layer_name(i, "self_attn.o_proj"), b.attn->out->weight);
    set(interop::hf_layer_name(i, "post_attention_layernorm"), b.ln2->weight);
    set(interop::hf_layer_name(i, "mlp.gate_proj"), b.swiglu->w1->weight);
    set(interop::hf_layer_name(i, "mlp.up_proj"), b.swiglu->w3->weight);
    set(interop::hf_layer_name(i, "mlp.down_proj"), b.swiglu->w2->weight);
  }
  set("model.norm.weight", m->ln_final->weight);
  if (hf_tied)
    m->lm_head->weight.copy_(m->embedding->weight);
  else
    set("lm_head.weight", m->lm_head->weight);
}

}  // namespace scalelab::model
