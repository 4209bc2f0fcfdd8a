// scalelab._scalelab: the C++ side of `import scalelab` (pybind11). Thin: every function converts
// Python values to the library's plain structs, calls the same code the CLI runs, and converts the
// result back; the Python package (python/scalelab/) adds argument checking with Python names,
// pandas/numpy conveniences and docstrings. No LibTorch here: the module links scaling, runs,
// tokenizer and accounting only.
//
// Errors: scalelab::Error (a bad value, a malformed file) → ValueError with scalelab's one-line
// message; a path that does not exist → FileNotFoundError; std::bad_alloc → MemoryError (pybind11's
// own); anything else → RuntimeError. Nothing aborts the interpreter.
//
// The GIL is released around the work that takes time (fits, bootstrap, tokenizer training and
// encoding), never around a call that may call back into Python (a model-size search).
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "accounting/model_shape.h"
#include "accounting/summary.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/json.h"
#include "common/thread_pool.h"
#include "runs/run.h"
#include "runs/run_db.h"
#include "scaling/bootstrap.h"
#include "scaling/fit.h"
#include "scaling/isoflop.h"
#include "scaling/scaling_law.h"
#include "scaling/seeding.h"
#include "scaling/simulator.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_io.h"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace scalelab::python {
namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IdArray = py::array_t<int32_t, py::array::c_style>;

// ---- JSON <-> Python values (dicts keep the JSON's key order)

py::object to_py(const json::Json& j) {
  switch (j.type()) {
    case json::Json::value_t::null:
      return py::none();
    case json::Json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case json::Json::value_t::number_integer:
      return py::int_(j.get<int64_t>());
    case json::Json::value_t::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case json::Json::value_t::number_float:
      return py::float_(j.get<double>());
    case json::Json::value_t::string:
      return py::str(j.get<std::string>());
    case json::Json::value_t::array: {
      py::list l;
      for (const auto& e : j) l.append(to_py(e));
      return l;
    }
    case json::Json::value_t::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = to_py(it.value());
      return d;
    }
    default:
      return py::none();
  }
}

// A Python int as a JSON integer (signed, or unsigned above INT64_MAX); larger ones are an error
// naming the field, not pybind11's cast error.
json::Json int_json(py::handle h, const std::string& where) {
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (overflow == 0 && !(v == -1 && PyErr_Occurred())) return static_cast<int64_t>(v);
  PyErr_Clear();
  if (overflow > 0) {
    const unsigned long long u = PyLong_AsUnsignedLongLong(h.ptr());
    if (!PyErr_Occurred()) return static_cast<uint64_t>(u);
    PyErr_Clear();
  }
  SCALELAB_FAIL("{}: {} is out of range", where, std::string(py::str(h)));
}

// Python value → JSON for option tables: the table's own reader then checks types and ranges and
// names the field. numpy scalars arrive as numbers (they implement __float__/__index__).
json::Json from_py(py::handle h, const std::string& where) {
  if (h.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) return int_json(h, where);
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::isinstance<py::dict>(h)) {
    json::Json o = json::Json::object();
    for (auto [k, v] : h.cast<py::dict>()) {
      const std::string key = py::str(k);
      o[key] = from_py(v, where + "." + key);
    }
    return o;
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h) || py::isinstance<py::array>(h)) {
    json::Json a = json::Json::array();
    size_t i = 0;
    for (auto v : h) a.push_back(from_py(v, where + "[" + std::to_string(i++) + "]"));
    return a;
  }
  if (py::hasattr(h, "__index__")) return int_json(h.attr("__index__")(), where);
  if (py::hasattr(h, "__float__")) return h.attr("__float__")().cast<double>();
  SCALELAB_FAIL("{}: expected a number, string, list or dict, got {}", where,
                std::string(py::str(py::type::of(h).attr("__name__"))));
}

json::Json options_json(const py::dict& d, const std::string& where) { return from_py(d, where); }

std::vector<double> to_vector(const Array& a) {
  SCALELAB_CHECK(a.ndim() == 1, "expected a 1-D array, got {} dimensions", a.ndim());
  return {a.data(), a.data() + a.size()};
}

py::array_t<double> to_array(const std::vector<double>& v) {
  py::array_t<double> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// FileNotFoundError naming the path, before a reader gets to it.
void require_path(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    const std::string msg = fmt::format("{}: no such file or directory", what);
    PyErr_SetObject(PyExc_FileNotFoundError,
                    py::make_tuple(ENOENT, py::str(msg), py::str(path)).ptr());
    throw py::error_already_set();
  }
}

// ---- runs: columns in and out

// {"C", "N", "D", "loss"} as float64 arrays.
py::dict columns(const std::vector<double>& C, const std::vector<double>& N,
                 const std::vector<double>& D, const std::vector<double>& loss) {
  py::dict d;
  d["C"] = to_array(C);
  d["N"] = to_array(N);
  d["D"] = to_array(D);
  d["loss"] = to_array(loss);
  return d;
}

py::dict runs_to_columns(const std::vector<runs::Run>& rs, bool with_db_fields) {
  const size_t n = rs.size();
  std::vector<double> C(n), N(n), D(n), loss(n);
  py::list budget;
  std::vector<std::string> extra_keys;
  for (size_t i = 0; i < n; ++i) {
    C[i] = rs[i].C;
    N[i] = rs[i].N;
    D[i] = rs[i].D;
    loss[i] = rs[i].loss;
    budget.append(rs[i].budget);
    for (auto it = rs[i].extra.begin(); it != rs[i].extra.end(); ++it)
      if (std::find(extra_keys.begin(), extra_keys.end(), it.key()) == extra_keys.end())
        extra_keys.push_back(it.key());
  }
  py::dict d = columns(C, N, D, loss);
  d["budget"] = budget;
  if (with_db_fields) {
    py::list id, status, created, config;
    for (const auto& r : rs) {
      id.append(r.id);
      status.append(std::string(runs::to_string(r.status)));
      created.append(r.created);
      config.append(to_py(r.config));
    }
    d["id"] = id;
    d["status"] = status;
    d["created"] = created;
    d["config"] = config;
  }
  py::dict extra;
  for (const auto& k : extra_keys) {
    py::list col;
    for (const auto& r : rs) col.append(r.extra.contains(k) ? to_py(r.extra[k]) : py::none());
    extra[py::str(k)] = col;
  }
  d["extra"] = extra;
  return d;
}

// The Python package passes float64 arrays C, N, D, loss (C may hold 0 = 6ND), a list of budget
// labels and a dict of extra columns (lists of JSON-able values).
std::vector<runs::Run> runs_from_columns(const Array& C, const Array& N, const Array& D,
                                         const Array& loss, const std::vector<std::string>& budget,
                                         const py::dict& extra) {
  const size_t n = static_cast<size_t>(N.size());
  SCALELAB_CHECK(
      C.size() == N.size() && D.size() == N.size() && loss.size() == N.size() && budget.size() == n,
      "runs: C, N, D, loss and budget differ in length");
  std::vector<runs::Run> rs(n);
  for (size_t i = 0; i < n; ++i) {
    runs::Run& r = rs[i];
    r.N = N.data()[i];
    r.D = D.data()[i];
    r.C = C.data()[i];
    r.c_source = r.C > 0 ? runs::FlopSource::kGiven : runs::FlopSource::kSixND;
    r.loss = loss.data()[i];
    r.budget = budget[i];
  }
  for (auto [k, v] : extra) {
    const std::string key = py::str(k);
    const json::Json col = from_py(v, "extra." + key);
    SCALELAB_CHECK(col.is_array() && col.size() == n,
                   "runs: extra column '{}' has {} values for {} runs", key,
                   col.is_array() ? col.size() : 1, n);
    for (size_t i = 0; i < n; ++i)
      if (!col[i].is_null()) rs[i].extra[key] = col[i];
  }
  for (size_t i = 0; i < n; ++i) rs[i].normalise(fmt::format("run {}", i + 1));
  return rs;
}

py::dict read_csv(const std::string& path) {
  require_path(path, "runs CSV");
  std::vector<runs::Run> rs = runs::runs_from_csv(csv::read_file(path), path);
  return runs_to_columns(rs, false);
}

void write_csv(const std::string& path, const Array& C, const Array& N, const Array& D,
               const Array& loss, const std::vector<std::string>& budget, const py::dict& extra) {
  std::vector<runs::Run> rs = runs_from_columns(C, N, D, loss, budget, extra);
  write_text_file_atomic(path, csv::format(runs::runs_to_csv(rs)));
}

py::dict read_db(const std::string& path, std::optional<std::string> status) {
  require_path(path, "run database");
  runs::RunDb db(path);
  std::optional<runs::RunStatus> s;
  if (status) s = fields::parse_enum<runs::RunStatus>(*status, "status");
  return runs_to_columns(db.list(s), true);
}

std::vector<int64_t> append_db(const std::string& path, const Array& C, const Array& N,
                               const Array& D, const Array& loss,
                               const std::vector<std::string>& budget, const py::dict& extra) {
  std::vector<runs::Run> rs = runs_from_columns(C, N, D, loss, budget, extra);
  runs::RunDb db(path);
  return db.add_all(std::move(rs));
}

// ---- the fit

scaling::FitData fit_data(const Array& N, const Array& D, const Array& loss,
                          const std::optional<Array>& weight) {
  scaling::FitData d;
  d.N = to_vector(N);
  d.D = to_vector(D);
  d.loss = to_vector(loss);
  if (weight) d.weight = to_vector(*weight);
  d.validate();
  return d;
}

scaling::FitOptions fit_options(const py::dict& options, const py::object& grid) {
  scaling::FitOptions o =
      scaling::fit_options_fields().from_json(options_json(options, "fit"), "fit");
  if (!grid.is_none())
    o.grid = scaling::param_grid_from_json(from_py(grid, "param_grid"), "param_grid");
  o.validate();
  return o;
}

// Returns {"law": Law, "fit": {...}, "bootstrap": {...} | None, "intervals": {name: (lo, hi)}}.
py::dict fit(const Array& N, const Array& D, const Array& loss, const std::optional<Array>& weight,
             const py::dict& options, const py::object& grid, const py::dict& bootstrap,
             const std::vector<double>& budgets) {
  const scaling::FitData data = fit_data(N, D, loss, weight);
  const scaling::FitOptions o = fit_options(options, grid);
  scaling::BootstrapOptions b = scaling::bootstrap_options_fields().from_json(
      options_json(bootstrap, "bootstrap"), "bootstrap");
  b.budgets = budgets;
  if (b.samples > 0) b.validate();
  scaling::FitResult f;
  std::optional<scaling::BootstrapResult> bs;
  {
    py::gil_scoped_release release;
    f = scaling::fit_scaling_law(data, o);
    if (b.samples > 0) bs = scaling::bootstrap_fit(data, o, f.law, b);
  }
  py::dict out;
  out["law"] = f.law;
  out["fit"] = to_py(scaling::to_json(f));
  if (bs) {
    out["bootstrap"] = to_py(scaling::to_json(*bs));
    py::dict intervals;
    for (const auto& [name, iv] : bs->params)
      intervals[py::str(name)] = py::make_tuple(iv.lo, iv.hi);
    out["intervals"] = intervals;
  } else {
    out["bootstrap"] = py::none();
    out["intervals"] = py::dict();
  }
  return out;
}

double objective(const scaling::ScalingLaw& law, const Array& N, const Array& D, const Array& loss,
                 const py::dict& options) {
  const scaling::FitData data = fit_data(N, D, loss, std::nullopt);
  return scaling::fit_objective(data, fit_options(options, py::none()), law);
}

// ---- IsoFLOP, simulation, the chinchilla workflow

std::vector<scaling::Observation> observations(const Array& N, const Array& D, const Array& C,
                                               const Array& loss,
                                               const std::vector<std::string>& budget) {
  const size_t n = static_cast<size_t>(N.size());
  SCALELAB_CHECK(D.size() == N.size() && C.size() == N.size() && loss.size() == N.size(),
                 "runs: N, D, C and loss differ in length");
  SCALELAB_CHECK(budget.empty() || budget.size() == n, "runs: {} budget labels for {} runs",
                 budget.size(), n);
  std::vector<scaling::Observation> obs(n);
  for (size_t i = 0; i < n; ++i) {
    obs[i].id = static_cast<int64_t>(i + 1);
    obs[i].N = N.data()[i];
    obs[i].D = D.data()[i];
    obs[i].C = C.data()[i] > 0 ? C.data()[i] : 6.0 * obs[i].N * obs[i].D;
    obs[i].loss = loss.data()[i];
    if (!budget.empty()) obs[i].budget = budget[i];
    for (double v : {obs[i].N, obs[i].D, obs[i].C, obs[i].loss})
      SCALELAB_CHECK(
          std::isfinite(v) && v > 0,
          "run {}: N, D, C and loss must be finite positive numbers (got N {}, D {}, C {}, "
          "loss {})",
          i + 1, obs[i].N, obs[i].D, obs[i].C, obs[i].loss);
  }
  return obs;
}

py::dict isoflop(const Array& N, const Array& D, const Array& C, const Array& loss,
                 const std::vector<std::string>& budget, double tolerance, size_t min_runs,
                 bool skip_small, const std::vector<double>& targets, bool include_extrapolated) {
  scaling::IsoflopOptions o;
  SCALELAB_CHECK(std::isfinite(tolerance) && tolerance > 0, "tolerance: must be positive (got {})",
                 tolerance);
  SCALELAB_CHECK(min_runs >= 3, "min_runs: a parabola needs at least 3 runs (got {})", min_runs);
  for (double t : targets)
    SCALELAB_CHECK(std::isfinite(t) && t > 0, "targets: must be positive FLOP counts (got {})", t);
  o.tolerance = tolerance;
  o.min_runs = min_runs;
  o.skip_small = skip_small;
  o.targets = targets;
  o.include_extrapolated = include_extrapolated;
  return to_py(scaling::to_json(scaling::isoflop_analysis(observations(N, D, C, loss, budget), o)))
      .cast<py::dict>();
}

// Runs known only by their compute (what next_budget and seeding_needed read).
std::vector<scaling::Observation> runs_of_budgets(const Array& C) {
  std::vector<scaling::Observation> obs;
  for (double c : to_vector(C)) obs.push_back(scaling::Observation{.C = c});
  return obs;
}

scaling::SeedRanges seed_ranges(double c_min, double c_max, double ratio_min, double ratio_max) {
  scaling::SeedRanges r{c_min, c_max, ratio_min, ratio_max};
  r.validate();
  return r;
}

py::dict simulate(int64_t runs, uint64_t seed, const std::string& noise, double noise_scale,
                  const scaling::ScalingLaw& truth, double c_min, double c_max, double ratio_min,
                  double ratio_max, int64_t scaling_steps, double scaling_factor,
                  const py::dict& fit_opts, const py::object& grid) {
  scaling::SimulatorOptions o;
  o.truth = truth;
  o.ranges = seed_ranges(c_min, c_max, ratio_min, ratio_max);
  o.n_runs = runs;
  o.scaling_steps = scaling_steps;
  o.scaling_factor = scaling_factor;
  o.noise = scaling::parse_noise_kind(noise);
  o.noise_scale = noise_scale;
  o.seed = seed;
  o.validate();
  const scaling::FitOptions f = fit_options(fit_opts, grid);
  std::vector<scaling::SimulatedRun> rs;
  {
    py::gil_scoped_release release;
    rs = scaling::simulate_runs(o, f);
  }
  std::vector<double> N, D, C, loss;
  py::list seeded;
  for (const auto& r : rs) {
    N.push_back(r.run.N);
    D.push_back(r.run.D);
    C.push_back(r.run.C);
    loss.push_back(r.run.loss);
    seeded.append(r.seeded);
  }
  py::dict d = columns(C, N, D, loss);
  d["seeded"] = seeded;
  return d;
}

py::dict proposal_dict(const scaling::Proposal& p) {
  py::dict d;
  d["N"] = p.N;
  d["D"] = p.D;
  d["C"] = p.C;
  d["seeded"] = p.seeded;
  d["note"] = p.note;
  return d;
}

struct Rng {
  std::mt19937_64 engine;
};

// A Python size search: target N → the N of the buildable model closest to it. Errors raised in it
// propagate as themselves.
scaling::ModelSizeSearch size_search(const std::optional<std::function<double(double)>>& f) {
  if (!f) return {};
  return [f](double target) {
    const double n = (*f)(target);
    SCALELAB_CHECK(std::isfinite(n) && n > 0,
                   "model search: the size estimator returned {} for a target of {:.4g} parameters",
                   n, target);
    return n;
  };
}

// ---- tokenizer

struct PyTokenizer {
  std::shared_ptr<const tokenizer::Tokenizer> tok;
};

py::array_t<int32_t> ids_array(const std::vector<int32_t>& ids) {
  py::array_t<int32_t> a(static_cast<py::ssize_t>(ids.size()));
  std::copy(ids.begin(), ids.end(), a.mutable_data());
  return a;
}

std::string_view utf8_view(const py::handle& s, size_t index) {
  if (!PyUnicode_Check(s.ptr()))
    throw py::type_error(fmt::format("texts[{}]: expected str, got {}", index,
                                     std::string(py::str(py::type::of(s).attr("__name__")))));
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(s.ptr(), &size);  // cached on the object
  if (data == nullptr) throw py::error_already_set();          // lone surrogates
  return {data, static_cast<size_t>(size)};
}

tokenizer::BpeTrainerOptions trainer_options(int64_t vocab_size,
                                             const std::vector<std::string>& specials,
                                             const std::string& pattern, size_t threads) {
  tokenizer::BpeTrainerOptions o;
  o.vocab_size = vocab_size;
  o.special_tokens = specials;
  o.pattern = fields::parse_enum<tokenizer::Pattern>(pattern, "pattern");
  o.threads = threads;
  o.validate();
  return o;
}

PyTokenizer train_tokenizer(const std::vector<std::string>& files, int64_t vocab_size,
                            const std::vector<std::string>& specials, const std::string& pattern,
                            size_t threads) {
  SCALELAB_CHECK(!files.empty(), "files: no input files");
  for (const auto& f : files) require_path(f, "training file");
  const auto o = trainer_options(vocab_size, specials, pattern, threads);
  std::vector<fs::path> paths(files.begin(), files.end());
  py::gil_scoped_release release;
  return {std::make_shared<const tokenizer::Tokenizer>(tokenizer::train_bpe(paths, o))};
}

PyTokenizer train_tokenizer_text(const py::str& text, int64_t vocab_size,
                                 const std::vector<std::string>& specials,
                                 const std::string& pattern, size_t threads) {
  const std::string_view view = utf8_view(text, 0);
  const auto o = trainer_options(vocab_size, specials, pattern, threads);
  py::gil_scoped_release release;
  return {
      std::make_shared<const tokenizer::Tokenizer>(tokenizer::train_bpe_on_text(view, o, "text"))};
}

PyTokenizer load_tokenizer(const std::string& path) {
  require_path(path, "tokenizer");
  return {std::make_shared<const tokenizer::Tokenizer>(tokenizer::load_tokenizer_dir(path))};
}

py::array_t<int32_t> encode(const PyTokenizer& t, const py::str& text, bool ordinary) {
  const std::string_view view = utf8_view(text, 0);
  std::vector<int32_t> ids;
  {
    py::gil_scoped_release release;
    ordinary ? t.tok->encode_ordinary(view, ids) : t.tok->encode(view, ids);
  }
  return ids_array(ids);
}

py::list encode_batch(const PyTokenizer& t, const py::sequence& texts, bool ordinary,
                      size_t threads) {
  const size_t n = texts.size();
  std::vector<py::object> keep;  // the str objects own the UTF-8 buffers the views point into
  std::vector<std::string_view> views;
  keep.reserve(n);
  views.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    keep.push_back(texts[i]);
    views.push_back(utf8_view(keep.back(), i));
  }
  std::vector<std::vector<int32_t>> out(n);
  {
    py::gil_scoped_release release;
    ThreadPool pool(threads);
    pool.parallel_for(n, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i)
        ordinary ? t.tok->encode_ordinary(views[i], out[i]) : t.tok->encode(views[i], out[i]);
    });
  }
  py::list l;
  for (const auto& ids : out) l.append(ids_array(ids));
  return l;
}

std::vector<int32_t> ids_from(const py::handle& ids) {
  std::vector<int32_t> v;
  if (py::isinstance<py::array>(ids)) {  // numpy: read the buffer, not element by element
    auto a = py::array::ensure(ids);
    SCALELAB_CHECK(a.ndim() <= 1, "ids: expected a 1-D sequence of token ids, got {} dimensions",
                   a.ndim());
    const char kind = a.dtype().kind();
    SCALELAB_CHECK(kind == 'i' || kind == 'u', "ids: expected integer token ids, got dtype {}",
                   std::string(py::str(a.dtype())));
    const auto wide = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
    const int64_t* p = wide.data();
    v.reserve(static_cast<size_t>(wide.size()));
    for (py::ssize_t i = 0; i < wide.size(); ++i) {
      SCALELAB_CHECK(p[i] >= 0 && p[i] <= INT32_MAX, "ids[{}]: {} is not a token id", i, p[i]);
      v.push_back(static_cast<int32_t>(p[i]));
    }
    return v;
  }
  size_t i = 0;
  for (auto h : ids) {
    if (!py::hasattr(h, "__index__") || py::isinstance<py::bool_>(h))
      throw py::type_error(fmt::format("ids[{}]: expected an integer token id, got {}", i,
                                       std::string(py::str(py::type::of(h).attr("__name__")))));
    const int64_t id = h.attr("__index__")().cast<int64_t>();
    SCALELAB_CHECK(id >= 0 && id <= INT32_MAX, "ids[{}]: {} is not a token id", i, id);
    v.push_back(static_cast<int32_t>(id));
    ++i;
  }
  return v;
}

// ---- accounting

py::dict account(const py::object& shape, const py::dict& options) {
  accounting::ModelShape s;
  std::string label;
  if (py::isinstance<py::str>(shape)) {
    label = shape.cast<std::string>();
    s = accounting::find_model_preset(label).shape;
    label += " (preset)";
  } else {
    s = accounting::model_shape_from_json(from_py(shape, "shape"), "shape");
    label = "shape";
  }
  const json::Json o = from_py(options, "account");
  accounting::AccountOptions a;
  json::ObjectReader r(o, "account");
  r.get("gpu", a.gpu);
  r.get("n_gpus", a.n_gpus);
  r.get("tokens", a.tokens);
  r.get("mfu", a.mfu);
  r.get("reserve_gib", a.reserve_gib);
  r.get("batch_size", a.memory.batch_size);
  r.get("seq_len", a.memory.seq_len);
  a.flops.seq_len = a.memory.seq_len;
  r.get("flash_attention", a.memory.flash_attention);
  r.get("recompute", a.memory.recompute);
  std::string precision{accounting::to_string(a.memory.precision)};
  if (r.get("precision", precision)) a.memory.precision = accounting::parse_precision(precision);
  std::string attention{accounting::to_string(a.flops.attention)};
  if (r.get("attention", attention))
    a.flops.attention = accounting::parse_attention_count(attention);
  r.finish();
  a.validate();
  return to_py(accounting::to_json(accounting::summarize(s, a, label))).cast<py::dict>();
}

}  // namespace
}  // namespace scalelab::python

PYBIND11_MODULE(_scalelab, m) {
  using namespace scalelab;
  using namespace scalelab::python;
  m.doc() = "scalelab's C++ engine (use the `scalelab` package, not this module directly)";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const scalelab::Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const nlohmann::json::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::filesystem::filesystem_error& e) {
      PyErr_SetString(e.code() == std::errc::no_such_file_or_directory ? PyExc_FileNotFoundError
                                                                       : PyExc_OSError,
                      e.what());
    }
  });

  py::class_<scaling::ScalingLaw>(m, "Law")
      .def(py::init([](double E, double A, double B, double alpha, double beta) {
             scaling::ScalingLaw l{E, A, B, alpha, beta};
             l.validate();
             return l;
           }),
           py::arg("E"), py::arg("A"), py::arg("B"), py::arg("alpha"), py::arg("beta"))
      .def_readonly("E", &scaling::ScalingLaw::E)
      .def_readonly("A", &scaling::ScalingLaw::A)
      .def_readonly("B", &scaling::ScalingLaw::B)
      .def_readonly("alpha", &scaling::ScalingLaw::alpha)
      .def_readonly("beta", &scaling::ScalingLaw::beta)
      .def_property_readonly("a", &scaling::ScalingLaw::a)
      .def_property_readonly("b", &scaling::ScalingLaw::b)
      .def_property_readonly("G", &scaling::ScalingLaw::G)
      .def("predict",
           [](const scaling::ScalingLaw& l, const Array& N, const Array& D) {
             return py::vectorize([&l](double n, double d) { return l.predict_loss(n, d); })(N, D);
           })
      .def("adjust_D_to_N",
           [](const scaling::ScalingLaw& l, const Array& N) {
             return py::vectorize([&l](double n) { return l.adjust_D_to_N(n); })(N);
           })
      .def("allocate",
           [](const scaling::ScalingLaw& l, double C) {
             const scaling::Allocation a = l.allocate(C);
             return py::make_tuple(a.N, a.D, a.loss);
           })
      .def("compute_for_loss", &scaling::ScalingLaw::compute_for_loss)
      .def("excess_compute", &scaling::ScalingLaw::excess_compute)
      .def("allocate_with_inference",
           [](const scaling::ScalingLaw& l, double C, double T) {
             return to_py(scaling::to_json(l.allocate_with_inference(C, T)));
           })
      .def("to_json", [](const scaling::ScalingLaw& l) { return scaling::to_json(l).dump(); })
      .def(py::pickle(
          [](const scaling::ScalingLaw& l) {
            return py::make_tuple(l.E, l.A, l.B, l.alpha, l.beta);
          },
          [](const py::tuple& t) {
            return scaling::ScalingLaw{t[0].cast<double>(), t[1].cast<double>(),
                                       t[2].cast<double>(), t[3].cast<double>(),
                                       t[4].cast<double>()};
          }));
  // `source` (a file name, or "law") names the text in errors.
  m.def("law_from_json", [](const std::string& text, const std::string& source) {
    return scaling::scaling_law_from_json(json::parse(text, source), source);
  });

  m.def("fit", &fit, py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("weight"),
        py::arg("options"), py::arg("grid"), py::arg("bootstrap"), py::arg("budgets"));
  m.def("objective", &objective);
  m.def("fit_options_defaults",
        [] { return to_py(scaling::fit_options_fields().to_json(scaling::FitOptions{})); });
  m.def("isoflop", &isoflop);
  m.def("simulate", &simulate);

  py::class_<Rng>(m, "Rng").def(py::init([](uint64_t seed) { return Rng{std::mt19937_64(seed)}; }));
  m.def("seed", [](double c_min, double c_max, double ratio_min, double ratio_max, Rng& rng,
                   std::optional<std::function<double(double)>> search) {
    return proposal_dict(scaling::seed(seed_ranges(c_min, c_max, ratio_min, ratio_max), rng.engine,
                                       size_search(search)));
  });
  m.def("scale", [](const scaling::ScalingLaw& law, double C,
                    std::optional<std::function<double(double)>> search) {
    SCALELAB_CHECK(std::isfinite(C) && C > 0, "C: must be a positive FLOP count (got {})", C);
    return proposal_dict(scaling::scale(law, C, size_search(search)));
  });
  m.def("next_budget", [](double c_min, double c_max, const Array& C, double factor) {
    SCALELAB_CHECK(std::isfinite(factor) && factor > 0, "scaling_factor: must be positive (got {})",
                   factor);
    return scaling::next_budget(seed_ranges(c_min, c_max, 1, 1), runs_of_budgets(C), factor);
  });
  m.def("seeding_needed", [](double c_min, double c_max, double ratio_min, double ratio_max,
                             const Array& C, int64_t num_seeding_steps) {
    return scaling::seeding_needed(seed_ranges(c_min, c_max, ratio_min, ratio_max),
                                   runs_of_budgets(C), num_seeding_steps);
  });

  m.def("read_csv", &read_csv);
  m.def("write_csv", &write_csv);
  m.def("read_db", &read_db);
  m.def("append_db", &append_db);

  py::class_<PyTokenizer>(m, "Tokenizer")
      .def_property_readonly("vocab_size", [](const PyTokenizer& t) { return t.tok->vocab_size(); })
      .def_property_readonly("special_tokens",
                             [](const PyTokenizer& t) {
                               py::dict d;
                               for (const auto& [text, id] : t.tok->model().specials)
                                 d[py::str(text)] = id;
                               return d;
                             })
      .def_property_readonly("pattern",
                             [](const PyTokenizer& t) {
                               return std::string(fields::enum_name(t.tok->model().pattern));
                             })
      .def("encode", &encode)
      .def("encode_batch", &encode_batch)
      .def("decode",
           [](const PyTokenizer& t, const py::object& ids) { return t.tok->decode(ids_from(ids)); })
      .def("decode_bytes",
           [](const PyTokenizer& t, const py::object& ids) {
             return py::bytes(t.tok->decode_bytes(ids_from(ids)));
           })
      .def("token_bytes",
           [](const PyTokenizer& t, int64_t id) {
             const auto& toks = t.tok->model().tokens;
             SCALELAB_CHECK(id >= 0 && id < static_cast<int64_t>(toks.size()),
                            "id: {} is outside the vocabulary (0 to {})", id, toks.size() - 1);
             return py::bytes(toks[static_cast<size_t>(id)]);
           })
      .def("save", [](const PyTokenizer& t, const std::string& dir) {
        tokenizer::save_tokenizer_dir(t.tok->model(), dir);
      });
  m.def("train_tokenizer", &train_tokenizer);
  m.def("train_tokenizer_text", &train_tokenizer_text);
  m.def("load_tokenizer", &load_tokenizer);

  m.def("account", &account);
  m.def("presets", [] {
    py::dict d;
    for (const auto& p : accounting::model_presets())
      d[py::str(p.name)] = to_py(accounting::to_json(p.shape));
    return d;
  });
}
