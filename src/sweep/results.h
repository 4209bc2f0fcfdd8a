// What a finished sweep tells: IsoFLOP analysis (Hoffmann et al. 2022 approach 2), the parametric
// fit (approach 3) with bootstrap intervals, a held-out check on the largest budget, and for each
// target budget the recommended N, D, predicted loss and the architecture rule's shape. Shared by
// `scalelab sweep` (printed and written as recommendation.json) and `scalelab report`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runs/run_db.h"
#include "scaling/pipeline.h"
#include "sweep/architecture.h"

namespace scalelab::sweep {

struct AnalysisOptions {
  std::vector<double> targets;
  scaling::SizeConvention convention = scaling::SizeConvention::kTotal;  // N of the main fit
  scaling::LossFunction loss = scaling::LossFunction::kLogHuber;
  int64_t bootstrap_samples = 200;
  uint64_t seed = 0;
  bool holdout = true;
  // Runs without a planned budget or label share an IsoFLOP budget when their C lie within this
  // (in ln C; scaling/isoflop.h).
  double budget_tolerance = scaling::IsoflopOptions{}.tolerance;
  std::optional<ArchitectureRule> architecture;  // shapes for the recommendations (vocab set)
  double inference_tokens = 0;  // > 0: Recommendation::with_inference at every target
};

// Another answer to "how big for C", and what it costs by the fitted law: the compute it spends
// beyond what the loss it reaches needs (ScalingLaw::excess_compute), with the bootstrap's
// interval of that under the refitted laws.
struct Alternative {
  std::string name;  // "20 tokens/param" (Hoffmann et al.'s rule of thumb), "IsoFLOP" (approach 2)
  double N = 0, D = 0;  // spends C: D = C / (6N)
  double loss = 0;      // the fitted law's prediction
  double excess = 0;    // e.g. 0.05: 5% more compute than the same loss needs
  std::optional<scaling::Interval> excess_ci;
};

struct Recommendation {
  double C = 0;
  scaling::Allocation law;                            // parametric allocation (6ND = C)
  std::optional<scaling::Interval> N_ci, D_ci, L_ci;  // bootstrap
  std::optional<scaling::Interval> tokens_per_param_ci;
  // 20 tokens/param, and the IsoFLOP answer when there is one.
  std::vector<Alternative> alternatives;
  // With inference tokens: the model reaching `law.loss` for the least training + inference
  // compute.
  std::optional<scaling::InferenceAllocation> with_inference;
  double iso_N = 0, iso_D = 0;  // IsoFLOP power laws at C (0 when unavailable)
  // The family member with the lowest predicted loss when it spends C exactly:
  // D = C / its exact FLOPs per token, L(its size under the convention, D).
  std::optional<ShapeChoice> shape;
  double shape_D = 0, shape_loss = 0;
  // For the corpus the runs drew from (Muennighoff et al. 2023; scaling/data_constrained.h): the
  // allocation when its unique tokens may be repeated, next to the fresh-data `law` above.
  std::optional<scaling::Allocation> constrained;
};

// The same runs fitted with N under one convention (no bootstrap): how the answer moves with what
// N counts (docs/scaling.md, "The parameter convention").
struct ConventionView {
  scaling::SizeConvention convention = scaling::SizeConvention::kTotal;
  std::optional<scaling::FitResult> fit;
  std::optional<scaling::HoldoutResult> holdout;
  std::vector<Recommendation> at_targets;  // law allocation and best member per target
  std::string failure;                     // why there is no fit, when there is none
};

struct SweepAnalysis {
  std::vector<runs::Run> runs;  // done runs
  size_t planned = 0, running = 0, failed = 0;
  std::map<int64_t, std::vector<runs::CurvePoint>> curves;
  std::optional<scaling::IsoflopResult> iso;
  std::optional<scaling::FitResult> fit;
  std::optional<scaling::BootstrapResult> boot;
  std::optional<scaling::HoldoutResult> holdout;
  std::optional<scaling::DataConstrainedFit> data_constrained;  // when 3+ runs repeat their data
  double unique_tokens = 0;  // the corpus (training split) the runs drew from; 0 = unknown
  // Loss spread between seeds per budget (runs::seed_spread), when models were trained with more
  // than one seed; the fits then read each model's mean loss (runs::mean_over_seeds).
  std::vector<runs::SeedSpread> seed_noise;
  scaling::SizeConvention convention = scaling::SizeConvention::kTotal;
  std::vector<Recommendation> recommendations;
  std::vector<ConventionView> conventions;  // every convention the runs record, main one first
  // Band for the N_opt/D_opt plot: bootstrap intervals on a C grid spanning the runs and targets.
  std::vector<scaling::BootstrapResult::BudgetIntervals> band;
  std::vector<std::string> warnings;
};

// The family member that minimises law's loss at exactly C FLOPs (see Recommendation::shape).
ShapeChoice best_member(const std::vector<ShapeChoice>& family, const scaling::ScalingLaw& law,
                        double C, scaling::SizeConvention convention);

// A budget's seed noise counts as large past this share of the range of its models' mean losses:
// the parabola's minimum there is then set by which seeds a model drew more than by its size.
constexpr double kSeedNoiseShare = 0.25;

// Analyses what is done in the database through the scaling pipeline (scaling/pipeline.h) with
// OnFailure::kWarn: parts that the data cannot support (fewer than 5 done runs for the parametric
// fit, fewer than 2 convex budgets for the power laws) are left empty with a warning rather than
// failing. Then the family's best member for each target, and the fit under every other size
// convention the runs record.
SweepAnalysis analyze_runs(const runs::RunDb& db, const AnalysisOptions& options);
json::Json to_json(const SweepAnalysis& a);
// The recommendation block for the console.
std::string format_recommendations(const SweepAnalysis& a);

}  // namespace scalelab::sweep
