#include "model/generate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "common/error.h"

namespace scalelab::model {

void SampleOptions::validate() const {
  SCALELAB_CHECK(max_new_tokens > 0, "max-new-tokens: must be positive (got {})", max_new_tokens);
  SCALELAB_CHECK(temperature >= 0 && std::isfinite(temperature),
                 "temperature: must be >= 0 (got {})", temperature);
  SCALELAB_CHECK(top_p > 0 && top_p <= 1, "top-p: must be in (0, 1] (got {})", top_p);
  SCALELAB_CHECK(vocab_limit >= 0, "vocab_limit: must be >= 0 (got {})", vocab_limit);
}

int64_t sample_top_p(const std::vector<double>& probs, double top_p, double u) {
  std::vector<size_t> order(probs.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);
  });
  double total = 0;
  size_t keep = 0;
  for (; keep < order.size(); ++keep) {
    total += probs[order[keep]];
    if (total >= top_p) {
      ++keep;
      break;
    }
  }
  keep = std::min(keep, order.size());
  double mass = 0;
  for (size_t i = 0; i < keep; ++i) mass += probs[order[i]];
  double target = u * mass, acc = 0;
  for (size_t i = 0; i < keep; ++i) {
    acc += probs[order[i]];
    if (acc >= target) return static_cast<int64_t>(order[i]);
  }
  return static_cast<int64_t>(order[keep - 1]);
}

std::vector<int64_t> generate(TransformerLM& model, const std::vector<int64_t>& prompt,
                              const SampleOptions& o) {
  o.validate();
  SCALELAB_CHECK(!prompt.empty(), "generate: the prompt encodes to no tokens");
  torch::NoGradGuard ng;
  model->eval();
  const auto device = model->parameters().front().device();
  const int64_t ctx = model->shape().context_length;
  const int64_t V = model->shape().vocab_size;
  SCALELAB_CHECK(o.vocab_limit <= V, "generate: vocab_limit {} exceeds the model's vocabulary {}",
                 o.vocab_limit, V);
  const int64_t limit = o.vocab_limit > 0 ? o.vocab_limit : V;
  for (const int64_t id : prompt)
    SCALELAB_CHECK(id >= 0 && id < limit, "generate: prompt token {} is outside the vocabulary {}",
                   id, limit);
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::vector<int64_t> seq = prompt, out;
  for (int64_t i = 0; i < o.max_new_tokens; ++i) {
    const size_t start =
        seq.size() > static_cast<size_t>(ctx) ? seq.size() - static_cast<size_t>(ctx) : 0;
    std::vector<int64_t> window(seq.begin() + static_cast<std::ptrdiff_t>(start), seq.end());
    auto ids = torch::tensor(window, torch::kLong).unsqueeze(0).to(device);  // (1, T)
    auto logits = model(ids).index({0, -1}).to(torch::kFloat64).cpu();       // (V)
    if (limit < V) logits = logits.slice(0, 0, limit);                       // (limit)
    for (const int64_t x : o.excluded_ids)
      if (x >= 0 && x < limit) logits[x] = -std::numeric_limits<double>::infinity();
    int64_t next;
    if (o.temperature == 0) {
      next = logits.argmax().item<int64_t>();
    } else {
      auto p = torch::softmax(logits / o.temperature, -1).contiguous();
      std::vector<double> probs(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
      next = sample_top_p(probs, o.top_p, uni(rng));
    }
    if (next == o.stop_token) break;
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

}  // namespace scalelab::model
