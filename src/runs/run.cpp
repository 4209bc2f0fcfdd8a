// Run helpers and the chinchilla CSV mapping.
#include "runs/run.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>

#include "common/error.h"

namespace scalelab::runs {

void Run::normalise(std::string_view where) {
  auto positive = [&](const char* name, double v) {
    SCALELAB_CHECK(std::isfinite(v) && v > 0, "{}: {} must be a finite positive number (got {})",
                   where, name, v);
  };
  positive("N", N);
  positive("D", D);
  if (C == 0) {
    C = 6.0 * N * D;
    c_source = FlopSource::kSixND;
  }
  positive("C", C);
  if (status == RunStatus::kDone)
    positive("loss", loss);
  else
    SCALELAB_CHECK(std::isnan(loss) || (std::isfinite(loss) && loss > 0),
                   "{}: loss must be positive (got {})", where, loss);
}

namespace {

// The extra field a convention reads, and the factor from its value to N.
std::pair<const char*, double> convention_source(scaling::SizeConvention c) {
  if (c == scaling::SizeConvention::kNonEmbedding) return {"n_non_embedding", 1.0};
  return {"body_flops_per_token", 1.0 / 6.0};
}

}  // namespace

double unique_tokens(const Run& r) {
  // A sweep records "unique_tokens"; a CSV column of that name arrives as text.
  if (r.extra.contains("unique_tokens")) {
    const json::Json& u = r.extra.at("unique_tokens");
    const double v = u.is_number()   ? u.get<double>()
                     : u.is_string() ? parse_number(u.get<std::string>(),
                                                    fmt::format("run {}", r.id), "unique_tokens")
                                     : 0.0;
    SCALELAB_CHECK(std::isfinite(v) && v > 0, "run {}: unique_tokens must be positive (got {})",
                   r.id, v);
    return v;
  }
  if (r.extra.contains("epochs") && r.extra.at("epochs").is_number()) {
    const double e = r.extra.at("epochs").get<double>();
    if (e > 0) return r.D / e;
  }
  return 0;
}

namespace {

// Done runs grouped as replicates (same budget, N, D, C), groups in order of first appearance.
std::vector<std::vector<const Run*>> replicate_groups(const std::vector<Run>& runs) {
  std::map<std::tuple<std::string, double, double, double>, size_t> index;
  std::vector<std::vector<const Run*>> groups;
  for (const auto& r : runs) {
    if (r.status != RunStatus::kDone) continue;
    auto [it, fresh] = index.try_emplace({r.budget, r.N, r.D, r.C}, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(&r);
  }
  return groups;
}

double budget_of(const Run& r) {
  return r.extra.contains("budget_C") && r.extra.at("budget_C").is_number()
             ? r.extra.at("budget_C").get<double>()
             : r.C;
}

}  // namespace

std::vector<Run> mean_over_seeds(const std::vector<Run>& runs) {
  std::map<const Run*, const std::vector<const Run*>*> first;
  const auto groups = replicate_groups(runs);
  for (const auto& g : groups) first[g.front()] = &g;
  std::vector<Run> out;
  for (const auto& r : runs) {
    if (r.status != RunStatus::kDone) {
      out.push_back(r);
      continue;
    }
    const auto it = first.find(&r);
    if (it == first.end()) continue;  // a later replicate: folded into the first
    const auto& g = *it->second;
    Run m = r;
    if (g.size() > 1) {
      double sum = 0;
      for (const Run* x : g) sum += x->loss;
      m.loss = sum / static_cast<double>(g.size());
      m.extra["seeds"] = g.size();
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<SeedSpread> seed_spread(const std::vector<Run>& runs) {
  struct Acc {
    SeedSpread s;
    double ss = 0, dof = 0, c_sum = 0, lo = INFINITY, hi = -INFINITY;
    int64_t c_count = 0;
  };
  std::map<std::string, Acc> by_budget;
  for (const auto& g : replicate_groups(runs)) {
    if (!on_isoflop_grid(*g.front())) continue;  // an extra point: no budget of the grid
    Acc& a = by_budget[g.front()->budget];
    a.s.budget = g.front()->budget;
    double mean = 0;
    for (const Run* x : g) mean += x->loss / static_cast<double>(g.size());
    a.lo = std::min(a.lo, mean);
    a.hi = std::max(a.hi, mean);
    for (const Run* x : g) {
      a.c_sum += budget_of(*x);
      ++a.c_count;
    }
    if (g.size() < 2) continue;
    ++a.s.models;
    a.s.runs += static_cast<int64_t>(g.size());
    for (const Run* x : g) a.ss += (x->loss - mean) * (x->loss - mean);
    a.dof += static_cast<double>(g.size() - 1);
  }
  std::vector<SeedSpread> out;
  for (auto& [label, a] : by_budget) {
    if (a.s.models == 0) continue;
    a.s.sd = std::sqrt(a.ss / a.dof);
    a.s.model_range = a.hi - a.lo;
    a.s.budget_C = a.c_sum / static_cast<double>(a.c_count);
    out.push_back(a.s);
  }
  std::sort(out.begin(), out.end(),
            [](const SeedSpread& x, const SeedSpread& y) { return x.budget_C < y.budget_C; });
  return out;
}

bool supports(const std::vector<Run>& runs, scaling::SizeConvention convention) {
  if (convention == scaling::SizeConvention::kTotal) return true;
  const char* field = convention_source(convention).first;
  for (const auto& r : runs)
    if (r.status == RunStatus::kDone && !(r.extra.contains(field) && r.extra.at(field).is_number()))
      return false;
  return true;
}

double size_under(const Run& r, scaling::SizeConvention convention) {
  if (convention == scaling::SizeConvention::kTotal) return r.N;
  const auto [field, factor] = convention_source(convention);
  SCALELAB_CHECK(r.extra.contains(field) && r.extra.at(field).is_number() &&
                     r.extra.at(field).get<double>() > 0,
                 "run {}: no {} recorded, needed for N under the {} convention (runs "
                 "imported from a CSV carry only the total N; use --size-convention total)",
                 r.id, field, fields::enum_name(convention));
  return r.extra.at(field).get<double>() * factor;
}

bool on_isoflop_grid(const Run& r) {
  const auto f = r.extra.find("isoflop");
  return f == r.extra.end() || !f->is_boolean() || f->get<bool>();
}

std::string trajectory_family(const Run& r) {
  const auto key = [](const json::Json& v) { return v.is_string() ? v.get<std::string>() : ""; };
  if (const auto p = r.extra.find("parent_key"); p != r.extra.end()) return key(*p);
  const auto b = r.config.find("branch_steps");
  if (b != r.config.end() && b->is_array() && !b->empty())
    if (const auto k = r.extra.find("key"); k != r.extra.end()) return key(*k);
  return "";
}

std::vector<scaling::Observation> observations(const std::vector<Run>& runs,
                                               scaling::SizeConvention convention) {
  std::vector<scaling::Observation> out;
  for (const auto& r : runs)
    if (r.status == RunStatus::kDone) {
      const json::Json& b = r.extra.contains("budget_C") ? r.extra.at("budget_C") : json::Json();
      const double N = size_under(r, convention);
      out.push_back({r.id, N, r.D, r.C, r.loss, r.budget, b.is_number() ? b.get<double>() : 0,
                     unique_tokens(r), trajectory_family(r), on_isoflop_grid(r)});
    }
  return out;
}

scaling::Curves curve_samples(const std::map<int64_t, std::vector<CurvePoint>>& curves) {
  scaling::Curves out;
  for (const auto& [id, points] : curves) {
    auto& c = out[id];
    c.reserve(points.size());
    for (const auto& p : points) c.push_back({p.tokens, p.flops, p.loss});
  }
  return out;
}

std::string format_number(double v) { return fmt::format("{}", v); }

double parse_number(std::string_view text, std::string_view where, std::string_view field) {
  std::string_view t = text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  SCALELAB_CHECK(!t.empty() && ec == std::errc() && ptr == t.data() + t.size(),
                 "{}: {}: '{}' is not a number", where, field, text);
  return v;
}

std::vector<Run> runs_from_csv(const csv::Table& t, std::string_view source) {
  const int cN = t.column("N"), cD = t.column("D"), cL = t.column("loss"), cC = t.column("C"),
            cB = t.column("budget");
  SCALELAB_CHECK(cN >= 0 && cD >= 0 && cL >= 0,
                 "{}: header must have columns N, D and loss (found: {})", source,
                 fmt::format("{}", fmt::join(t.header, ", ")));
  // A repeated column name would silently read the first of the two.
  for (size_t c = 0; c < t.header.size(); ++c)
    for (size_t k = 0; k < c; ++k)
      SCALELAB_CHECK(t.header[k] != t.header[c],
                     "{}: column '{}' appears twice in the header (columns {} and {})", source,
                     t.header[c], k + 1, c + 1);
  std::vector<Run> runs;
  runs.reserve(t.rows.size());
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& row = t.rows[i];
    std::string where = fmt::format("{}:{}", source, t.line_of_row[i]);
    Run r;
    r.id = static_cast<int64_t>(t.line_of_row[i]);  // named in results (held-out rows, warnings)
    r.N = parse_number(row[static_cast<size_t>(cN)], where, "N");
    r.D = parse_number(row[static_cast<size_t>(cD)], where, "D");
    r.loss = parse_number(row[static_cast<size_t>(cL)], where, "loss");
    if (cC >= 0 && !row[static_cast<size_t>(cC)].empty()) {
      r.C = parse_number(row[static_cast<size_t>(cC)], where, "C");
      r.c_source = FlopSource::kGiven;
      SCALELAB_CHECK(std::isfinite(r.C) && r.C > 0,
                     "{}: C must be a finite positive number (got {})", where, r.C);
    }
    if (cB >= 0) r.budget = row[static_cast<size_t>(cB)];
    for (size_t c = 0; c < t.header.size(); ++c) {
      if (static_cast<int>(c) == cN || static_cast<int>(c) == cD || static_cast<int>(c) == cL ||
          static_cast<int>(c) == cC || static_cast<int>(c) == cB)
        continue;
      r.extra[t.header[c]] = row[c];
    }
    r.normalise(where);
    runs.push_back(std::move(r));
  }
  return runs;
}

csv::Table runs_to_csv(const std::vector<Run>& runs) {
  csv::Table t;
  t.header = {"C", "N", "D", "loss"};
  bool any_budget = false;
  std::vector<std::string> extra_cols;
  for (const auto& r : runs) {
    any_budget |= !r.budget.empty();
    for (const auto& [k, v] : r.extra.items()) {
      (void)v;
      if (std::find(extra_cols.begin(), extra_cols.end(), k) == extra_cols.end())
        extra_cols.push_back(k);
    }
  }
  if (any_budget) t.header.push_back("budget");
  t.header.insert(t.header.end(), extra_cols.begin(), extra_cols.end());
  for (const auto& r : runs) {
    std::vector<std::string> row{format_number(r.C), format_number(r.N), format_number(r.D),
                                 std::isnan(r.loss) ? "" : format_number(r.loss)};
    if (any_budget) row.push_back(r.budget);
    for (const auto& k : extra_cols) {
      if (!r.extra.contains(k)) {
        row.emplace_back();
      } else {
        const auto& v = r.extra.at(k);
        row.push_back(v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace scalelab::runs
