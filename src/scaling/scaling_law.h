// The Chinchilla parametric loss L(N, D) = E + A/N^α + B/D^β (Hoffmann et al. 2022, eq. 2) and
// what follows from it in closed form: the compute-optimal allocation of a FLOP budget C = 6ND
// (Hoffmann et al. 2022 App. D.2), the loss there, D adjusted to a given N, and IsoFLOP profiles.
// No fitting here (fit.h), no I/O beyond JSON.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "common/json.h"

namespace scalelab::scaling {

struct Allocation {
  double C = 0;     // FLOPs
  double N = 0;     // parameters
  double D = 0;     // tokens
  double loss = 0;  // L(N, D)
  double tokens_per_param() const { return D / N; }
};

// Training and inference compute together (Sardana et al. 2024, "Beyond Chinchilla-Optimal"):
// the model that reaches `loss` with the least 6ND + 2N·T, T the tokens it will serve.
struct InferenceAllocation {
  double C = 0;                 // the training budget whose compute-optimal loss is the target
  double inference_tokens = 0;  // T
  double N_opt = 0;             // the compute-optimal model's N at C (allocate(C).N)
  double N = 0, D = 0, loss = 0;
  double training_flops() const { return 6.0 * N * D; }
  double inference_flops() const { return 2.0 * N * inference_tokens; }
  double total_flops() const { return training_flops() + inference_flops(); }
  // The compute-optimal model serving the same tokens, C + 2·N_opt·T, and the share saved on it.
  double compute_optimal_total_flops() const { return C + 2.0 * N_opt * inference_tokens; }
  double saving() const { return 1.0 - total_flops() / compute_optimal_total_flops(); }
};

struct ScalingLaw {
  double E = 0, A = 0, B = 0, alpha = 0, beta = 0;

  // Throws naming the parameter unless all are finite and E ≥ 0, A, B, α, β > 0.
  void validate() const;

  double predict_loss(double N, double D) const;
  std::vector<double> predict_loss(std::span<const double> N, std::span<const double> D) const;

  // a = β/(α+β) and b = α/(α+β): N_opt ∝ C^a, D_opt ∝ C^b.
  double a() const { return beta / (alpha + beta); }
  double b() const { return alpha / (alpha + beta); }
  // G = (αA / (βB))^(1/(α+β))
  double G() const;
  // N_opt = G·(C/6)^a, D_opt = (C/6)^b / G, minimising L subject to 6ND = C.
  Allocation allocate(double C) const;
  // The inverse of allocate(C).loss: the least compute that reaches `loss` (> E, else an error).
  // L_opt(C) = E + K·(C/6)^−γ with γ = αβ/(α+β) and K = A·G^−α + B·G^β.
  double compute_for_loss(double loss) const;
  // How much more compute than needed a model of N parameters spends at budget C (D = C/(6N)):
  // C / compute_for_loss(L(N, D)) − 1, 0 at N_opt. "% more compute for the same loss".
  double excess_compute(double C, double N) const;
  // The compute-optimal D for a model of N parameters: D = G^{-(1+b/a)} · N^{b/a}.
  double adjust_D_to_N(double N) const;
  // The N and D that reach allocate(C).loss with the least training + inference compute
  // 6ND + 2N·T (T = inference_tokens ≥ 0, else an error naming it). T = 0 is allocate(C); a larger
  // T gives a smaller model trained on more tokens.
  InferenceAllocation allocate_with_inference(double C, double inference_tokens) const;
  // L(N | C) = L(N, C/(6N)): the IsoFLOP profile the allocation minimises.
  double isoflop_loss(double N, double C) const { return predict_loss(N, C / (6.0 * N)); }

  bool operator==(const ScalingLaw&) const = default;
};

json::Json to_json(const ScalingLaw& law);
// {"inference_tokens", "N", "D", "tokens_per_param", "loss", "training_flops", "inference_flops",
//  "total_flops", "compute_optimal_total_flops"}: `allocate --json` and a sweep's recommendation.
json::Json to_json(const InferenceAllocation& a);
// Accepts {"E":…, "A":…, "B":…, "alpha":…, "beta":…} alone or as the "law" field of a fit result.
ScalingLaw scaling_law_from_json(const json::Json& j, std::string_view context);
ScalingLaw read_scaling_law(const std::string& path);

// The parameters Hoffmann et al. 2022 report for approach 3 (their eq. 4).
inline constexpr ScalingLaw kHoffmann2022{1.69, 406.4, 410.7, 0.34, 0.28};

}  // namespace scalelab::scaling
