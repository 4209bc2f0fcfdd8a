// Parameter counting. Every component is listed once, so that sum(components) == total is a test.
#include "accounting/params.h"

#include <fmt/format.h>

namespace scalelab::accounting {

ParamCounts count_params(const ModelShape& in) {
  in.validate();
  const ModelShape s = in.resolved();
  const int64_t V = s.vocab_size, d = s.d_model, L = s.n_layers, f = s.d_ff, kv = s.kv_dim();
  ParamCounts p;
  auto add = [&](std::string name, std::string shape, int64_t count, bool emb, bool mm) {
    p.components.push_back({std::move(name), std::move(shape), count, emb, mm});
    p.total += count;
    if (emb) p.embedding += count;
    if (mm) p.matmul += count;
  };
  add("token embedding",
      fmt::format("{}×{}{}", V, d, s.tied_embeddings ? " (tied with LM head)" : ""), V * d, true,
      s.tied_embeddings);
  add("attention norm", fmt::format("{} × {}", L, d), L * d, false, false);
  add("attention Q", fmt::format("{} × {}×{}", L, d, d), L * d * d, false, true);
  add("attention K", fmt::format("{} × {}×{}", L, d, kv), L * d * kv, false, true);
  add("attention V", fmt::format("{} × {}×{}", L, d, kv), L * d * kv, false, true);
  add("attention O", fmt::format("{} × {}×{}", L, d, d), L * d * d, false, true);
  add("ffn norm", fmt::format("{} × {}", L, d), L * d, false, false);
  add("ffn W1", fmt::format("{} × {}×{}", L, d, f), L * d * f, false, true);
  if (s.ffn == FfnKind::kSwiGlu)
    add("ffn W3", fmt::format("{} × {}×{}", L, d, f), L * d * f, false, true);
  add("ffn W2", fmt::format("{} × {}×{}", L, f, d), L * f * d, false, true);
  add("final norm", fmt::format("{}", d), d, false, false);
  if (!s.tied_embeddings) add("LM head", fmt::format("{}×{}", d, V), d * V, false, true);

  p.lm_head = s.tied_embeddings ? 0 : d * V;
  p.non_embedding = p.total - p.embedding - p.lm_head;
  p.attention = L * (2 * d * d + 2 * d * kv);
  p.ffn = L * d * f * (s.ffn == FfnKind::kSwiGlu ? 3 : 2);
  p.norms = (2 * L + 1) * d;
  p.per_layer = (p.attention + p.ffn) / L + 2 * d;
  return p;
}

json::Json to_json(const ParamCounts& p) {
  json::Json j;
  j["total"] = p.total;
  j["embedding"] = p.embedding;
  j["non_embedding"] = p.non_embedding;
  j["matmul"] = p.matmul;
  j["per_layer"] = p.per_layer;
  j["attention"] = p.attention;
  j["ffn"] = p.ffn;
  j["norms"] = p.norms;
  j["lm_head"] = p.lm_head;
  json::Json comps = json::Json::array();
  for (const auto& c : p.components) {
    comps.push_back({{"name", c.name},
                     {"shape", c.shape},
                     {"count", c.count},
                     {"embedding", c.embedding},
                     {"matmul", c.matmul}});
  }
  j["components"] = comps;
  j["conventions"] = {
      {"total", "every learnable parameter; the LM head counted unless tied"},
      {"embedding", "token-embedding table (excluded from N by Kaplan et al. 2020)"},
      {"non_embedding", "total minus the token-embedding table and the LM head (Kaplan et al. 2020 N)"},
      {"matmul",
       "weights used in matrix multiplies: attention, FFN, LM head (PaLM App. B, torchtitan)"}};
  return j;
}

}  // namespace scalelab::accounting
