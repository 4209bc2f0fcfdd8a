// Closed-form consequences of the parametric law (Hoffmann et al. 2022, App. D.2). With D = C/(6N),
//   L(N) = E + A N^{−α} + B (C/6)^{−β} N^{β},
//   dL/dN = −αA N^{−α−1} + βB (C/6)^{−β} N^{β−1} = 0  ⇔  αA N^{−α} = βB D^{−β},
// so N^{α+β} = (αA/(βB)) (C/6)^β, i.e. N_opt = G (C/6)^{β/(α+β)} with G = (αA/(βB))^{1/(α+β)},
// and D_opt = C/(6 N_opt) = (C/6)^{α/(α+β)} / G.
#include "scaling/scaling_law.h"

#include <cmath>

#include "common/error.h"
#include "scaling/golden_section.h"

namespace scalelab::scaling {

void ScalingLaw::validate() const {
  auto check = [](const char* name, double v, bool allow_zero) {
    SCALELAB_CHECK(std::isfinite(v) && (allow_zero ? v >= 0 : v > 0),
                   "scaling law parameter {} must be {} (got {})", name,
                   allow_zero ? "finite and >= 0" : "finite and > 0", v);
  };
  check("E", E, true);
  check("A", A, false);
  check("B", B, false);
  check("alpha", alpha, false);
  check("beta", beta, false);
}

double ScalingLaw::predict_loss(double N, double D) const {
  // exp(log A − α log N) avoids overflow of N^α for large exponents.
  return E + std::exp(std::log(A) - alpha * std::log(N)) +
         std::exp(std::log(B) - beta * std::log(D));
}

std::vector<double> ScalingLaw::predict_loss(std::span<const double> N,
                                             std::span<const double> D) const {
  SCALELAB_CHECK(N.size() == D.size(), "predict_loss: {} values of N but {} of D", N.size(),
                 D.size());
  std::vector<double> out(N.size());
  for (size_t i = 0; i < N.size(); ++i) out[i] = predict_loss(N[i], D[i]);
  return out;
}

double ScalingLaw::G() const { return std::pow(alpha * A / (beta * B), 1.0 / (alpha + beta)); }

Allocation ScalingLaw::allocate(double C) const {
  SCALELAB_CHECK(std::isfinite(C) && C > 0, "compute budget C must be a positive number (got {})",
                 C);
  Allocation r;
  r.C = C;
  const double g = G();
  r.N = g * std::pow(C / 6.0, a());
  r.D = std::pow(C / 6.0, b()) / g;
  r.loss = predict_loss(r.N, r.D);
  return r;
}

// Along the iso-loss curve L(N, D) = ℓ, D(N) = (B / (ℓ − E − A N^{−α}))^{1/β} for N above
// N_min = (A / (ℓ − E))^{1/α}, where D → ∞. The total 6N·D(N) + 2N·T goes to ∞ at N_min; its
// training part is least at the compute-optimal N (the dual of allocate: least compute for a loss)
// and the inference part grows with N, so the optimum lies in (N_min, N_opt]: a golden-section
// search in log N there (the total is unimodal on it).
InferenceAllocation ScalingLaw::allocate_with_inference(double C, double T) const {
  SCALELAB_CHECK(std::isfinite(T) && T >= 0,
                 "inference tokens must be a non-negative number (got {})", T);
  const Allocation opt = allocate(C);
  InferenceAllocation r;
  r.C = C;
  r.inference_tokens = T;
  r.N_opt = opt.N;
  r.N = opt.N;
  r.D = opt.D;
  r.loss = opt.loss;
  if (T == 0) return r;
  const double gap = opt.loss - E;  // > A N_opt^−α > 0
  const auto D_of = [&](double log_n) {
    const double rest = gap - std::exp(std::log(A) - alpha * log_n);
    return std::exp((std::log(B) - std::log(rest)) / beta);
  };
  const auto total = [&](double log_n) {
    const double n = std::exp(log_n);
    return 6.0 * n * D_of(log_n) + 2.0 * n * T;
  };
  const double log_n =
      golden_section_min(total, (std::log(A) - std::log(gap)) / alpha, std::log(opt.N), 1e-12);
  if (total(log_n) < total(std::log(opt.N))) {
    r.N = std::exp(log_n);
    r.D = D_of(log_n);
    r.loss = predict_loss(r.N, r.D);
  }
  return r;
}

double ScalingLaw::compute_for_loss(double loss) const {
  SCALELAB_CHECK(std::isfinite(loss) && loss > E,
                 "loss {} is not above the law's irreducible loss E = {}: no compute reaches it",
                 loss, E);
  const double gamma = alpha * beta / (alpha + beta), g = G();
  const double K = A * std::pow(g, -alpha) + B * std::pow(g, beta);
  return 6.0 * std::pow((loss - E) / K, -1.0 / gamma);
}

double ScalingLaw::excess_compute(double C, double N) const {
  SCALELAB_CHECK(std::isfinite(C) && C > 0 && std::isfinite(N) && N > 0,
                 "excess_compute: C and N must be positive (got {}, {})", C, N);
  return C / compute_for_loss(predict_loss(N, C / (6.0 * N))) - 1.0;
}

double ScalingLaw::adjust_D_to_N(double N) const {
  SCALELAB_CHECK(std::isfinite(N) && N > 0, "N must be a positive number (got {})", N);
  const double ratio = b() / a();  // = α/β
  return std::pow(G(), -1.0 - ratio) * std::pow(N, ratio);
}

json::Json to_json(const InferenceAllocation& a) {
  return {{"inference_tokens", a.inference_tokens},
          {"N", a.N},
          {"D", a.D},
          {"tokens_per_param", a.D / a.N},
          {"loss", a.loss},
          {"training_flops", a.training_flops()},
          {"inference_flops", a.inference_flops()},
          {"total_flops", a.total_flops()},
          {"compute_optimal_total_flops", a.compute_optimal_total_flops()}};
}

json::Json to_json(const ScalingLaw& l) {
  return {{"E", l.E}, {"A", l.A}, {"B", l.B}, {"alpha", l.alpha}, {"beta", l.beta}};
}

ScalingLaw scaling_law_from_json(const json::Json& j, std::string_view context) {
  const json::Json* obj = &j;
  std::string ctx(context);
  if (j.is_object() && j.contains("law") && !j.contains("E")) {
    obj = &j.at("law");
    ctx += ".law";
  }
  json::ObjectReader r(*obj, ctx);
  ScalingLaw l;
  r.require("E", l.E);
  r.require("A", l.A);
  r.require("B", l.B);
  r.require("alpha", l.alpha);
  r.require("beta", l.beta);
  r.finish();
  try {
    l.validate();
  } catch (const Error& e) {
    SCALELAB_FAIL("{}: {}", ctx, e.what());
  }
  return l;
}

ScalingLaw read_scaling_law(const std::string& path) {
  return scaling_law_from_json(json::read_file(path), path);
}

}  // namespace scalelab::scaling
