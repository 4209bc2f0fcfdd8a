// A recorded training run: N parameters, D tokens, C FLOPs, final loss, plus bookkeeping (status,
// budget label, config and extra metrics as JSON). Also the `chinchilla` package's CSV format
// (columns C, N, D, loss; extra columns kept verbatim), and what the scaling math reads of runs
// (scaling::Observation: the done ones, as plain numbers).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv.h"
#include "common/fields.h"
#include "common/json.h"
#include "scaling/observation.h"

namespace scalelab::runs {

enum class RunStatus { kPlanned, kRunning, kDone, kFailed };
// C = 6·N·D, given by the user, or exact accounting.
enum class FlopSource { kSixND, kGiven, kExact };

}  // namespace scalelab::runs

template <>
struct scalelab::fields::EnumNames<scalelab::runs::RunStatus> {
  using E = scalelab::runs::RunStatus;
  static constexpr std::array<std::pair<E, std::string_view>, 4> kNames{{{E::kPlanned, "planned"},
                                                                         {E::kRunning, "running"},
                                                                         {E::kDone, "done"},
                                                                         {E::kFailed, "failed"}}};
};
template <>
struct scalelab::fields::EnumNames<scalelab::runs::FlopSource> {
  using E = scalelab::runs::FlopSource;
  static constexpr std::array<std::pair<E, std::string_view>, 3> kNames{
      {{E::kSixND, "6ND"}, {E::kGiven, "given"}, {E::kExact, "exact"}}};
};

namespace scalelab::runs {

inline std::string_view to_string(RunStatus s) { return fields::enum_name(s); }
inline std::string_view to_string(FlopSource s) { return fields::enum_name(s); }

struct Run {
  int64_t id = 0;       // assigned by the database
  std::string created;  // ISO 8601 UTC, assigned by the database
  RunStatus status = RunStatus::kDone;
  double N = 0, D = 0, C = 0;  // C = 0 on input means 6·N·D
  FlopSource c_source = FlopSource::kSixND;
  double loss = 0;     // NaN while not done
  std::string budget;  // label grouping IsoFLOP runs ("1e18"), may be empty
  json::Json config = json::Json::object();
  json::Json extra = json::Json::object();  // extra metrics; CSV extra columns land here as strings
  // Fills C (6ND) when zero and checks values; `where` names the row in errors.
  void normalise(std::string_view where);
};

struct CurvePoint {
  int64_t step = 0;
  double tokens = 0, flops = 0, loss = 0;
};

// The training trajectory a run shares with others (scaling::Observation::family): a WSD sweep's
// cooldown branch, its extra["parent_key"]; their parent (a run whose config keeps branch_steps),
// its extra["key"]; "" for every other run.
std::string trajectory_family(const Run& run);
// Whether a run is one of an IsoFLOP budget's points: false only for a WSD sweep's extra branch
// points along D (extra "isoflop": false, sweep/planner.h).
bool on_isoflop_grid(const Run& run);
// The done runs as the scaling math reads them (id, N, D, C, loss, budget label, and the exact
// budget from extra["budget_C"] when a sweep planned the run), in order. N under `convention`:
// Run::N for kTotal; extra["n_non_embedding"] or extra["body_flops_per_token"] / 6 (recorded by
// sweeps) for the others, and a run without it is an error naming the run.
// A run's N under `convention` (as observations reads it; an error naming the run when it lacks
// what the convention needs).
double size_under(const Run& run, scaling::SizeConvention convention);
std::vector<scaling::Observation> observations(
    const std::vector<Run>& runs,
    scaling::SizeConvention convention = scaling::SizeConvention::kTotal);
// Replicates — done runs with the same budget label, N, D and C, which a sweep with `seeds` > 1
// trains with different seeds — as one run with their mean loss (the first one's id and other
// fields, extra["seeds"] = how many). The laws describe a model's expected loss, and the bootstrap
// then resamples models rather than seeds of one. Other runs pass through, in order.
std::vector<Run> mean_over_seeds(const std::vector<Run>& runs);
// The loss spread between seeds in one budget: the pooled standard deviation of each replicated
// model's losses about its mean, next to the range of the budget's model means (all its models,
// replicated or not). Budgets without a replicated model are left out; sorted by budget.
struct SeedSpread {
  std::string budget;
  double budget_C = 0;     // extra["budget_C"] when recorded, else the runs' mean C
  int64_t models = 0;      // models with two or more seeds
  int64_t runs = 0;        // their runs
  double sd = 0;           // pooled standard deviation of the loss between seeds
  double model_range = 0;  // max − min of the budget's model mean losses
};
std::vector<SeedSpread> seed_spread(const std::vector<Run>& runs);
// The unique training tokens a run drew from: extra["unique_tokens"] (sweeps record it; a CSV may
// have the column), else D / extra["epochs"]; 0 when unknown.
double unique_tokens(const Run& run);
// Whether every done run records what `convention` needs.
bool supports(const std::vector<Run>& runs, scaling::SizeConvention convention);
// Loss curves without their step numbers, for the envelope analysis.
scaling::Curves curve_samples(const std::map<int64_t, std::vector<CurvePoint>>& curves);

// chinchilla CSV: header must contain N, D and loss; C optional (6ND when absent or empty). A
// `budget` column becomes the budget label; every other column is kept in `extra` as text, in
// order. A column name given twice is an error. Each run's id is its line in the file.
std::vector<Run> runs_from_csv(const csv::Table& t, std::string_view source);
// Writes C, N, D, loss, then the extra columns (union over runs, first-seen order). Numbers use the
// shortest decimal that round-trips (so import → export → import is exact).
csv::Table runs_to_csv(const std::vector<Run>& runs);

// Shortest round-trip decimal ("73824672", "1.3972367362937152e+18").
std::string format_number(double v);
// Strict number parse; throws "<where>: <field>: '<text>' is not a number".
double parse_number(std::string_view text, std::string_view where, std::string_view field);

}  // namespace scalelab::runs
