// What the scaling math reads: one finished run as plain numbers, and the points of its loss curve.
// Where runs come from (a CSV, the run database, a simulator) is src/runs' business, not this
// library's: src/scaling is pure math on these values and links no database.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scaling/fit.h"

namespace scalelab::scaling {

// What "N" means in a law (docs/scaling.md, "The parameter convention"):
//   kTotal         every parameter, embeddings and LM head included (Hoffmann et al. 2022);
//   kNonEmbedding  without the token embedding and the LM head (Kaplan et al. 2020);
//   kFlops         M/6, with M the training FLOPs per token outside the LM head, attention
//                  included (DeepSeek-AI 2024, "DeepSeek LLM" §3.1, counts C = M·D): the size
//                  that makes C = 6·N·D exact for the body of the network.
enum class SizeConvention { kTotal, kNonEmbedding, kFlops };

// One finished training run: N parameters trained on D tokens for C FLOPs reached `loss`.
struct Observation {
  int64_t id = 0;              // the caller's id (run database id, CSV row): named in results
  double N = 0, D = 0, C = 0;  // C as counted by the caller (6ND, given, or exact accounting)
  double loss = 0;
  std::string budget;   // label grouping IsoFLOP runs ("1e18"); empty = group by C
  double budget_C = 0;  // the exact budget this run was planned for (a sweep's); 0 = unknown
  double unique_D = 0;  // unique tokens D was drawn from (D > unique_D: repeated); 0 = unknown
  // Runs that share a training trajectory (a WSD parent and its cooldown branches) share a family:
  // their losses share its noise, so the bootstrap resamples them together. Empty = its own.
  std::string family;
  // One of an IsoFLOP budget's points. False: a point off the IsoFLOP grid (a WSD sweep's extra
  // cooldown branch along D), which the parametric fit uses and budget grouping leaves out.
  bool isoflop = true;
};

// One point of a run's loss curve: the loss after `tokens` tokens and `flops` FLOPs.
struct CurveSample {
  double tokens = 0, flops = 0, loss = 0;
};
using Curves = std::map<int64_t, std::vector<CurveSample>>;  // by Observation::id

// (N, D, loss) columns for the parametric fit (weights empty); FitData::group numbers the runs'
// families (a run without one is a group of its own), or stays empty when every run is its own.
FitData to_fit_data(const std::vector<Observation>& observations);

}  // namespace scalelab::scaling

template <>
struct scalelab::fields::EnumNames<scalelab::scaling::SizeConvention> {
  using E = scalelab::scaling::SizeConvention;
  static constexpr std::array<std::pair<E, std::string_view>, 3> kNames{
      {{E::kTotal, "total"}, {E::kNonEmbedding, "non-embedding"}, {E::kFlops, "flops"}}};
};
