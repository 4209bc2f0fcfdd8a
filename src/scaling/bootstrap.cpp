// Bootstrap over runs, parallel over samples.
#include "scaling/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "common/error.h"
#include "common/thread_pool.h"

namespace scalelab::scaling {

const fields::Table<BootstrapOptions>& bootstrap_options_fields() {
  using fields::Opt;
  using fields::Range;
  static const auto t =
      fields::Table<BootstrapOptions>()
          .add("samples", &BootstrapOptions::samples,
               "Bootstrap resamples for the intervals (0 = none, else at least 10)",
               Opt::named("--bootstrap", Range::at_least(0)))
          .add("seed", &BootstrapOptions::seed, "Bootstrap seed")
          .add("confidence", &BootstrapOptions::confidence, "Central interval level",
               Range::in(0, 1, true, true));
  return t;
}

void BootstrapOptions::validate() const {
  bootstrap_options_fields().check(*this);
  SCALELAB_CHECK(samples >= 10, "bootstrap: need at least 10 samples (got {})", samples);
  for (double c : budgets)
    SCALELAB_CHECK(std::isfinite(c) && c > 0, "bootstrap budget must be positive (got {})", c);
}

double percentile(const std::vector<double>& s, double q) {
  SCALELAB_CHECK(!s.empty(), "percentile of no values");
  double pos = q * static_cast<double>(s.size() - 1);
  size_t i = static_cast<size_t>(std::floor(pos));
  if (i + 1 >= s.size()) return s.back();
  double t = pos - static_cast<double>(i);
  return s[i] + t * (s[i + 1] - s[i]);
}

BootstrapResult bootstrap_fit(const FitData& data, const FitOptions& options,
                              const ScalingLaw& optimum, const BootstrapOptions& boot,
                              ProgressBar* progress) {
  data.validate();
  boot.validate();
  const size_t n = data.size();
  // The units resampled: runs, or groups of runs that share noise (data.group), each drawn whole.
  std::vector<std::vector<size_t>> units;
  if (data.group.empty()) {
    for (size_t i = 0; i < n; ++i) units.push_back({i});
  } else {
    std::map<int64_t, size_t> unit_of;
    for (size_t i = 0; i < n; ++i) {
      const auto [it, added] = unit_of.emplace(data.group[i], units.size());
      if (added) units.emplace_back();
      units[it->second].push_back(i);
    }
  }
  std::vector<ScalingLaw> laws(static_cast<size_t>(boot.samples));
  std::vector<char> ok(static_cast<size_t>(boot.samples), 0);
  ThreadPool pool(options.threads);
  pool.parallel_for(static_cast<size_t>(boot.samples), [&](size_t b, size_t e) {
    for (size_t s = b; s < e; ++s) {
      std::mt19937_64 rng(boot.seed * 0x9E3779B97F4A7C15ull + s + 1);
      std::uniform_int_distribution<size_t> pick(0, units.size() - 1);
      FitData d;
      for (size_t k = 0; k < units.size(); ++k)
        for (const size_t i : units[pick(rng)]) {
          d.N.push_back(data.N[i]);
          d.D.push_back(data.D[i]);
          d.loss.push_back(data.loss[i]);
          if (!data.weight.empty()) d.weight.push_back(data.weight[i]);
        }
      // A resample whose refit does not converge (a few duplicated runs can make the law
      // unidentifiable) counts as a failed sample, like one with invalid parameters.
      try {
        FitResult r = fit_from_start(d, options, optimum);
        const ScalingLaw& l = r.law;
        ok[s] = std::isfinite(l.E) && std::isfinite(l.A) && std::isfinite(l.B) && l.alpha > 0 &&
                l.beta > 0;
        laws[s] = l;
      } catch (const Error&) {
        ok[s] = 0;
      }
      if (progress != nullptr) progress->update(1);
    }
  });
  BootstrapResult res;
  res.samples = boot.samples;
  res.confidence = boot.confidence;
  for (size_t s = 0; s < laws.size(); ++s)
    if (ok[s]) res.laws.push_back(laws[s]);
  auto interval = [&](auto&& get) { return res.interval_of(get); };
  for (char o : ok) res.failed += o ? 0 : 1;
  SCALELAB_CHECK(res.failed < boot.samples / 2,
                 "bootstrap: {} of {} refits gave non-positive alpha or beta; the data do not "
                 "identify the law",
                 res.failed, boot.samples);
  res.params["E"] = interval([](const ScalingLaw& l) { return l.E; });
  res.params["A"] = interval([](const ScalingLaw& l) { return l.A; });
  res.params["B"] = interval([](const ScalingLaw& l) { return l.B; });
  res.params["alpha"] = interval([](const ScalingLaw& l) { return l.alpha; });
  res.params["beta"] = interval([](const ScalingLaw& l) { return l.beta; });
  res.params["a"] = interval([](const ScalingLaw& l) { return l.a(); });
  res.params["b"] = interval([](const ScalingLaw& l) { return l.b(); });
  for (double C : boot.budgets) {
    BootstrapResult::BudgetIntervals bi;
    bi.C = C;
    bi.N_opt = interval([C](const ScalingLaw& l) { return l.allocate(C).N; });
    bi.D_opt = interval([C](const ScalingLaw& l) { return l.allocate(C).D; });
    bi.L_opt = interval([C](const ScalingLaw& l) { return l.allocate(C).loss; });
    bi.tokens_per_param =
        interval([C](const ScalingLaw& l) { return l.allocate(C).tokens_per_param(); });
    res.budgets.push_back(bi);
  }
  return res;
}

json::Json to_json(const BootstrapResult& r) {
  auto iv = [](const Interval& i) {
    return json::Json{{"lo", i.lo}, {"median", i.median}, {"hi", i.hi}};
  };
  json::Json p;
  for (const auto& [k, v] : r.params) p[k] = iv(v);
  json::Json b = json::Json::array();
  for (const auto& x : r.budgets)
    b.push_back({{"C", x.C},
                 {"N_opt", iv(x.N_opt)},
                 {"D_opt", iv(x.D_opt)},
                 {"L_opt", iv(x.L_opt)},
                 {"tokens_per_param", iv(x.tokens_per_param)}});
  return {{"samples", r.samples},
          {"failed", r.failed},
          {"confidence", r.confidence},
          {"params", p},
          {"budgets", b}};
}

}  // namespace scalelab::scaling
