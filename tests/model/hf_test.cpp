// The HF export's tensors drive a plain LibTorch re-implementation of transformers' LlamaModel
// (rotate-half RoPE, repeat_kv, LlamaRMSNorm, LlamaMLP) to the same logits as scalelab's model:
// the q/k row permutation and the untied head are checked by computation, not assumed. The same
// tensors read back are bit-identical (fp32).
#include "model/hf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "common/error.h"
#include "interop/hf_llama.h"

namespace scalelab::model {
namespace {

accounting::ModelShape shape(int64_t kv_heads, bool tied) {
  accounting::ModelShape s;
  s.vocab_size = 64;
  s.context_length = 16;
  s.d_model = 32;
  s.n_layers = 2;
  s.n_heads = 4;
  s.n_kv_heads = kv_heads;
  s.tied_embeddings = tied;
  return s;
}

using Tensors = std::map<std::string, torch::Tensor>;

Tensors as_map(TransformerLM& m) {
  Tensors t;
  for (auto& [name, v] : to_hf_tensors(m, torch::kFloat32)) t[name] = v;
  return t;
}

// transformers' LlamaForCausalLM forward (modeling_llama.py), written out: ids (B, T) → logits.
torch::Tensor hf_llama_logits(const Tensors& w, const accounting::ModelShape& s, double theta,
                              const torch::Tensor& ids) {
  const int64_t B = ids.size(0), T = ids.size(1), H = s.n_heads, Hkv = s.resolved_n_kv_heads(),
                hd = s.head_dim();
  auto rms = [](const torch::Tensor& x, const torch::Tensor& g) {
    return g * (x * torch::rsqrt(x.pow(2).mean(-1, true) + 1e-5));
  };
  auto lin = [&](const torch::Tensor& x, const std::string& name) {
    return torch::matmul(x, w.at(name).t());
  };
  // Rotary: inv_freq = θ^(−2i/hd); emb = cat(freqs, freqs); q·cos + rotate_half(q)·sin.
  auto inv_freq = torch::pow(theta, -torch::arange(0, hd, 2, torch::kDouble) / hd);
  auto freqs = torch::outer(torch::arange(T, torch::kDouble), inv_freq);  // (T, hd/2)
  auto emb = torch::cat({freqs, freqs}, -1).to(torch::kFloat32);          // (T, hd)
  auto cos = emb.cos(), sin = emb.sin();
  auto rotate_half = [&](const torch::Tensor& x) {
    auto x1 = x.narrow(-1, 0, hd / 2), x2 = x.narrow(-1, hd / 2, hd / 2);
    return torch::cat({-x2, x1}, -1);
  };
  auto x = w.at("model.embed_tokens.weight").index_select(0, ids.flatten()).view({B, T, -1});
  auto mask = torch::ones({T, T}, torch::kBool).tril();
  for (int64_t i = 0; i < s.n_layers; ++i) {
    auto name = [&](const char* what) { return interop::hf_layer_name(i, what); };
    auto y = rms(x, w.at(name("input_layernorm")));
    auto q = lin(y, name("self_attn.q_proj")).view({B, T, H, hd}).transpose(1, 2);
    auto k = lin(y, name("self_attn.k_proj")).view({B, T, Hkv, hd}).transpose(1, 2);
    auto v = lin(y, name("self_attn.v_proj")).view({B, T, Hkv, hd}).transpose(1, 2);
    q = q * cos + rotate_half(q) * sin;
    k = k * cos + rotate_half(k) * sin;
    k = k.repeat_interleave(H / Hkv, 1);  // repeat_kv
    v = v.repeat_interleave(H / Hkv, 1);
    auto att = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd));
    att = att.masked_fill(mask.logical_not(), -INFINITY).softmax(-1);
    auto o = torch::matmul(att, v).transpose(1, 2).reshape({B, T, -1});
    x = x + lin(o, name("self_attn.o_proj"));
    y = rms(x, w.at(name("post_attention_layernorm")));
    x = x + lin(torch::silu(lin(y, name("mlp.gate_proj"))) * lin(y, name("mlp.up_proj")),
                name("mlp.down_proj"));
  }
  return lin(rms(x, w.at("model.norm.weight")), "lm_head.weight");
}

TEST(Hf, ExportedWeightsGiveTheSameLogitsInTransformersArithmetic) {
  for (int64_t kv : {0, 2, 1}) {
    for (bool tied : {false, true}) {
      const auto s = shape(kv, tied);
      torch::manual_seed(5);
      TransformerLM m(s, ModelOptions{50000.0});
      torch::NoGradGuard ng;
      for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.05);  // norms ≠ 1 too
      auto ids = torch::randint(0, 64, {2, 16}, torch::kLong);
      const Tensors w = as_map(m);
      EXPECT_EQ(w.size(), static_cast<size_t>(3 + 9 * s.n_layers));
      auto ours = m(ids), theirs = hf_llama_logits(w, s.resolved(), 50000.0, ids);
      EXPECT_LT((ours - theirs).abs().max().item<double>(), 1e-4)
          << "kv " << kv << " tied " << tied;
    }
  }
}

TEST(Hf, RoundTripIsBitExactAndAWrongShapeIsNamed) {
  const auto s = shape(2, false);
  torch::manual_seed(6);
  TransformerLM a(s), b(s);
  const Tensors w = as_map(a);
  auto get = [&](const std::string& name) {
    auto it = w.find(name);
    SCALELAB_CHECK(it != w.end(), "test: no tensor {}", name);
    return it->second;
  };
  load_hf_tensors(b, false, get);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  // A tied HF head: lm_head is the embedding itself.
  load_hf_tensors(b, true, get);
  EXPECT_TRUE(torch::equal(b->lm_head->weight, a->embedding->weight));
  Tensors bad = w;
  bad["model.layers.1.mlp.up_proj.weight"] = torch::zeros({3, 3});
  try {
    load_hf_tensors(b, false, [&](const std::string& n) { return bad.at(n); });
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor model.layers.1.mlp.up_proj.weight has shape 3×3"),
              std::string::npos)
        << e.what();
  }
  bad = w;
  bad["model.norm.weight"] = torch::full({32}, NAN);
  EXPECT_THROW(load_hf_tensors(b, false, [&](const std::string& n) { return bad.at(n); }), Error);
  // bf16 export: the same tensors rounded.
  for (auto& [name, t] : to_hf_tensors(a, torch::kBFloat16))
    EXPECT_TRUE(torch::equal(t, w.at(name).to(torch::kBFloat16))) << name;
  // GELU-MLP models have no Llama equivalent.
  auto gelu = s;
  gelu.ffn = accounting::FfnKind::kGeluMlp;
  TransformerLM g(gelu);
  EXPECT_THROW(to_hf_tensors(g, torch::kFloat32), Error);
}

}  // namespace
}  // namespace scalelab::model
