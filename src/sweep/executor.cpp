// Sweep execution (see executor.h).
#include "sweep/executor.h"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/log.h"
#include "common/mmap_file.h"
#include "common/process.h"
#include "common/token_file.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/file_encoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_io.h"

namespace scalelab::sweep {

namespace fs = std::filesystem;

namespace {

void rename_or_throw(const fs::path& from, const fs::path& to) {
  SCALELAB_CHECK(std::rename(from.c_str(), to.c_str()) == 0, "{}: cannot rename to {}",
                 from.string(), to.string());
}

// Splits the concatenated corpus (a newline added after a file that lacks one) into train.txt and
// val.txt. The text is cut into blocks that end at a line end (about 64 KiB, smaller for a small
// corpus so that validation gets at least 16 blocks); every k-th block, k = round(1/val_fraction),
// goes to validation. Interleaving keeps both splits from the same mix of documents (a tail split
// of a corpus ordered by source is a different distribution).
void split_corpus(const SweepConfig& c, const fs::path& dir) {
  const fs::path train = dir / "train.txt", val = dir / "val.txt";
  const fs::path marker = dir / "split.json";
  json::Json want{{"corpus", c.corpus}, {"val_fraction", c.val_fraction}, {"method", "blocks-v1"}};
  if (fs::exists(marker) && fs::exists(train) && fs::exists(val) &&
      json::read_file(marker.string()) == want)
    return;
  std::vector<MmapFile> files;
  uint64_t total = 0;
  for (const auto& f : c.corpus) {
    SCALELAB_CHECK(fs::is_regular_file(f), "corpus: {}: no such file", f);
    files.emplace_back(f);
    total += files.back().size();
  }
  SCALELAB_CHECK(total > 0, "corpus: the files are empty ({})", fmt::join(c.corpus, ", "));
  const uint64_t period = std::max<uint64_t>(2, std::llround(1.0 / c.val_fraction));
  const uint64_t block = std::clamp<uint64_t>(total / (16 * period), 256, 64 << 10);
  // Per-process temporary names: two processes preparing the same out_dir each rename a complete
  // file into place (the same content), never a mix.
  const std::string pid = std::to_string(::getpid());
  const fs::path train_tmp = dir / ("train.txt.tmp." + pid), val_tmp = dir / ("val.txt.tmp." + pid);
  std::ofstream ot(train_tmp, std::ios::binary), ov(val_tmp, std::ios::binary);
  SCALELAB_CHECK(ot && ov, "{}: cannot write the corpus split", dir.string());
  uint64_t in_block = 0, index = 0;
  auto put = [&](const char* p, size_t n) {
    while (n > 0) {
      std::ofstream& o = index % period == period - 1 ? ov : ot;
      size_t k = n;
      if (in_block + n >= block) {
        // The block ends at the first line end at or after `block` bytes.
        const size_t from = in_block >= block ? 0 : static_cast<size_t>(block - in_block);
        const void* nl = from < n ? std::memchr(p + from, '\n', n - from) : nullptr;
        if (nl) k = static_cast<size_t>(static_cast<const char*>(nl) - p) + 1;
      }
      o.write(p, static_cast<std::streamsize>(k));
      in_block += k;
      if (k > 0 && p[k - 1] == '\n' && in_block >= block) {
        in_block = 0;
        ++index;
      }
      p += k;
      n -= k;
    }
  };
  for (const auto& f : files) {
    put(reinterpret_cast<const char*>(f.data()), f.size());
    if (f.size() == 0 || f.data()[f.size() - 1] != '\n') put("\n", 1);
  }
  ot.close();
  ov.close();
  SCALELAB_CHECK(ot.good() && ov.good(), "{}: writing the corpus split failed (disk full?)",
                 dir.string());
  rename_or_throw(train_tmp, train);
  rename_or_throw(val_tmp, val);
  json::write_file(marker, want);
}

// Encodes text into bin unless bin's sidecar already names this tokenizer.
void encode_once(const tokenizer::Tokenizer& tok, const fs::path& text, const fs::path& bin) {
  const fs::path meta = bin.string() + ".json";
  if (fs::exists(meta)) {
    try {
      if (read_token_meta(bin).tokenizer_hash == tok.model().hash()) return;
    } catch (const Error&) {
      // Incomplete or stale: encode again.
    }
  }
  tokenizer::EncodeFileOptions eo;
  const auto r = tokenizer::encode_file(tok, text, bin, eo);
  SCALELAB_LOG_INFO("encoded {}: {} tokens ({:.2f} bytes/token)", text.string(),
                    format_int(static_cast<int64_t>(r.tokens)),
                    r.tokens > 0 ? static_cast<double>(r.bytes) / r.tokens : 0.0);
}

}  // namespace

std::string sweep_db_path(const SweepConfig& c) {
  return (fs::path(c.out_dir) / "runs.db").string();
}

DataInfo prepare_data(const SweepConfig& c) {
  ensure_writable_directory(c.out_dir);
  DataInfo p;
  std::optional<tokenizer::Tokenizer> tok;
  if (!c.train_tokens.empty()) {
    p.tokenizer_dir = c.tokenizer;
    p.train_bin = c.train_tokens;
    p.val_bin = c.val_tokens;
  } else {
    const fs::path data = fs::path(c.out_dir) / "data";
    ensure_writable_directory(data);
    split_corpus(c, data);
    if (!c.tokenizer.empty()) {
      p.tokenizer_dir = c.tokenizer;
    } else {
      const fs::path dir = fs::path(c.out_dir) / "tokenizer";
      if (!fs::exists(dir / "tokenizer_config.json")) {
        SCALELAB_LOG_INFO("training a byte-level BPE tokenizer (vocab {}) on {}", c.vocab_size,
                          (data / "train.txt").string());
        tokenizer::BpeTrainerOptions o;
        o.vocab_size = c.vocab_size;
        o.pattern = c.tokenizer_pattern;
        o.invalid_utf8 = tokenizer::InvalidUtf8::kReplace;
        const tokenizer::BpeModel m = tokenizer::train_bpe({data / "train.txt"}, o);
        SCALELAB_CHECK(
            static_cast<int64_t>(m.vocab_size()) >= c.vocab_size,
            "corpus {}: too small for vocab_size {}: byte-level BPE found only {} tokens "
            "({} merges) in its {} bytes of training text; give more text or a smaller "
            "vocab_size",
            fmt::join(c.corpus, ", "), c.vocab_size, m.vocab_size(), m.merges.size(),
            fs::file_size(data / "train.txt"));
        const fs::path tmp = fs::path(c.out_dir) / ("tokenizer.tmp." + std::to_string(::getpid()));
        remove_tree(tmp);
        tokenizer::save_tokenizer_dir(m, tmp);
        // Another process may have renamed its (identical) tokenizer into place meanwhile.
        if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
          SCALELAB_CHECK(fs::exists(dir / "tokenizer_config.json"), "{}: cannot rename to {}",
                         tmp.string(), dir.string());
          remove_tree(tmp);
        }
      }
      p.tokenizer_dir = dir.string();
    }
    tok.emplace(tokenizer::load_tokenizer_dir(p.tokenizer_dir));
    if (c.tokenizer.empty())
      SCALELAB_CHECK(static_cast<int64_t>(tok->vocab_size()) == c.vocab_size,
                     "{}: holds a tokenizer of {} tokens but vocab_size is {}; use a new out_dir "
                     "(or the old vocab_size)",
                     p.tokenizer_dir, tok->vocab_size(), c.vocab_size);
    p.train_bin = (data / "train.bin").string();
    p.val_bin = (data / "val.bin").string();
    encode_once(*tok, data / "train.txt", p.train_bin);
    encode_once(*tok, data / "val.txt", p.val_bin);
  }
  if (!tok) tok.emplace(tokenizer::load_tokenizer_dir(p.tokenizer_dir));
  const TokenFileMeta tm = read_token_meta(p.train_bin), vm = read_token_meta(p.val_bin);
  for (const auto* m : {&tm, &vm})
    SCALELAB_CHECK(m->vocab_size <= tok->vocab_size(),
                   "{}: token file for a vocabulary of {} but the tokenizer has {}",
                   m == &tm ? p.train_bin : p.val_bin, m->vocab_size, tok->vocab_size());
  p.vocab_size = static_cast<int64_t>(tok->vocab_size());
  p.train_tokens = static_cast<int64_t>(tm.count);
  p.val_tokens = static_cast<int64_t>(vm.count);
  return p;
}

std::vector<runs::Run> plan_to_runs(const Plan& plan, FlopCount flop_count) {
  std::vector<runs::Run> out;
  for (const auto& p : plan.runs) {
    p.train.validate();  // the planner's output, checked before it reaches the database
    runs::Run r;
    r.status = runs::RunStatus::kPlanned;
    r.N = static_cast<double>(p.choice.params);
    r.D = p.D;
    r.C = p.C;
    r.c_source =
        flop_count == FlopCount::kExact ? runs::FlopSource::kExact : runs::FlopSource::kSixND;
    r.loss = std::nan("");
    r.budget = p.budget;
    r.config = train::to_json(p.train);
    r.extra = {{"key", p.key},
               {"budget_C", p.budget_C},
               {"target_N", p.target_N},
               {"epochs", p.epochs},
               {"est_seconds", p.est_seconds},
               {"flops_exact", p.flops_exact},
               {"flops_6nd", p.flops_6nd},
               {"unique_tokens", plan.data.train_tokens},
               {"n_non_embedding", p.choice.non_embedding},
               {"flops_per_token", p.choice.flops_per_token},
               {"body_flops_per_token", p.choice.body_flops_per_token}};
    if (!p.parent.empty()) {  // a cooldown branch: claimable once its parent is done (run_db.h)
      r.extra["parent_key"] = p.parent;
      r.extra["branch_step"] = p.branch_step;
    }
    if (!p.isoflop) r.extra["isoflop"] = false;  // an extra point along D: no IsoFLOP budget's
    out.push_back(std::move(r));
  }
  return out;
}

size_t insert_plan(runs::RunDb& db, const Plan& plan, std::vector<runs::Run> runs) {
  const std::string fp = plan_fingerprint(plan).dump();
  const size_t n = runs.size();
  const auto [inserted, stored] = db.add_all_once(std::move(runs), "sweep_plan", fp);
  if (stored == fp) return inserted ? n : 0;  // inserted now, or by an earlier run of this plan
  // Name the first difference so the user sees why.
  std::string why = "the number of runs differs";
  try {
    const json::Json a = json::parse(stored, "sweep_plan")["runs"],
                     b = plan_fingerprint(plan)["runs"];
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
      if (a[i] != b[i]) {
        why = fmt::format("run {} differs", b[i]["key"].get<std::string>());
        break;
      }
  } catch (const Error&) {
  }
  SCALELAB_FAIL(
      "{}: holds a different sweep plan ({}); the config changed since it was planned — use a "
      "new out_dir, or restore the config",
      db.path().string(), why);
}

std::vector<int64_t> release_runs(runs::RunDb& db, bool retry_failed) {
  std::vector<int64_t> ids = db.release_stale(
      [](const json::Json& owner) { return process_is_dead(process_identity_from_json(owner)); });
  if (retry_failed) {
    for (const auto& r : db.list(runs::RunStatus::kFailed)) {
      db.set_status(r.id, runs::RunStatus::kPlanned);
      ids.push_back(r.id);
    }
  }
  return ids;
}

std::vector<runs::CurvePoint> read_loss_curve(const std::string& path) {
  std::ifstream f(path);
  SCALELAB_CHECK(f.good(), "{}: cannot read", path);
  std::map<int64_t, runs::CurvePoint> by_step;
  std::string line;
  int64_t n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (line.empty()) continue;
    const json::Json j = json::parse(line, fmt::format("{}:{}", path, n));
    runs::CurvePoint p;
    p.step = j.at("step").get<int64_t>();
    p.tokens = j.at("tokens").get<double>();
    p.flops = j.at("flops").get<double>();
    p.loss = j.at("train_loss").get<double>();
    if (std::isfinite(p.loss)) by_step[p.step] = p;
  }
  std::vector<runs::CurvePoint> out;
  for (const auto& [s, p] : by_step) out.push_back(p);
  return out;
}

void record_finished_run(runs::RunDb& db, const runs::Run& run, const train::TrainConfig& cfg,
                         const train::TrainResult& res) {
  db.complete(finished_run(run, res),
              read_loss_curve((fs::path(cfg.out_dir) / "metrics.jsonl").string()));
  // The parent's checkpoint this branch started from is needed by no other run.
  if (!cfg.branch_from.empty()) {
    try {
      remove_tree(cfg.branch_from);
    } catch (const std::exception& e) {
      SCALELAB_LOG_WARN("run {} ({}): {}", run.id, run.extra.value("key", ""), e.what());
    }
  }
}

runs::Run finished_run(runs::Run run, const train::TrainResult& res) {
  run.status = runs::RunStatus::kDone;
  run.N = static_cast<double>(res.params);
  run.D = res.tokens;
  run.C = run.c_source == runs::FlopSource::kExact ? res.flops : 6.0 * run.N * run.D;
  SCALELAB_CHECK(std::isfinite(res.final_val_loss),
                 "run {}: training finished without a validation loss", run.id);
  run.loss = res.final_val_loss;
  if (run.extra.contains("owner")) run.extra["trained_by"] = run.extra["owner"];
  run.extra.erase("owner");
  run.extra["steps"] = res.steps;
  run.extra["final_train_loss"] = res.final_train_loss;
  run.extra["flops_exact"] = res.flops;
  run.extra["flops_6nd"] = res.flops_6nd;
  run.extra["wall_seconds"] = res.wall_seconds;
  run.extra["tokens_per_second"] = res.tokens_per_second;
  run.extra["mfu"] = res.mfu;
  run.extra["steady_tokens_per_second"] = res.steady_tokens_per_second;
  run.extra["flops_spent"] = res.flops_spent;
  if (res.branch_step > 0) run.extra["branch_step"] = res.branch_step;
  return run;
}

namespace {

// One finished run's rate alone (FLOP/s; measured_device_rate says how), 0 when it lacks a number.
double run_rate_alone(const runs::Run& r) {
  // A branch's wall time covers only its cooldown: the compute it spent, not the point's.
  const double w = r.extra.value("wall_seconds", 0.0), spent = r.extra.value("flops_spent", 0.0),
               f = spent > 0 ? spent : r.extra.value("flops_exact", 0.0);
  // A packed run's rate is the rate of its share of the GPU, and its GPU trained the packed runs
  // faster than one at a time by the packing gain: the run alone, as the plan counts it.
  double share = 1, gain = 1;
  if (const auto it = r.extra.find("trained_by"); it != r.extra.end() && it->is_object()) {
    share = it->value("gpu_share", 1.0);
    if (share < 1) gain = it->value("mps", false) ? kPackingGainMps : kPackingGain;
  }
  return w > 0 && f > 0 && share > 0 ? f / w / share / gain : 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

double checkpointed_share(const PlannedRun& run) {
  const fs::path state = fs::path(train::resume_checkpoint_dir(run.train.out_dir)) / "state.json";
  if (!fs::exists(state)) return 0;
  const int64_t own = run.steps - run.branch_step;
  const int64_t done = json::read_file(state).value("step", int64_t{0}) - run.branch_step;
  return own > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(own), 0.0, 1.0) : 0;
}

double measured_device_rate(const std::vector<runs::Run>& done) {
  std::vector<double> rates;
  for (const auto& r : done)
    if (const double rate = run_rate_alone(r); rate > 0) rates.push_back(rate);
  return median(std::move(rates));
}

std::map<double, double> measured_rates_by_shape(const std::vector<runs::Run>& done) {
  std::map<double, std::vector<double>> by_shape;
  for (const auto& r : done) {
    const double rate = run_rate_alone(r), fpt = r.extra.value("flops_per_token", 0.0);
    if (rate > 0 && fpt > 0) by_shape[fpt].push_back(rate);
  }
  std::map<double, double> rates;
  for (auto& [fpt, v] : by_shape) rates[fpt] = median(std::move(v));
  return rates;
}

namespace {

// When nothing is claimable: planned branches whose parent is still planned or running (another
// worker trains it: wait for it) → true. Branches whose parent failed are marked failed, naming
// it (--retry-failed plans both again); then → false, nothing is left for this worker.
bool branches_wait_for_parents(runs::RunDb& db) {
  std::map<std::string, const runs::Run*> by_key;
  const std::vector<runs::Run> all = db.list();
  for (const auto& r : all) by_key[r.extra.value("key", std::string())] = &r;
  bool wait = false;
  for (const auto& r : all) {
    if (r.status != runs::RunStatus::kPlanned || !r.extra.contains("parent_key") ||
        !r.extra["parent_key"].is_string())
      continue;
    const std::string parent = r.extra["parent_key"].get<std::string>();
    const auto it = by_key.find(parent);
    const runs::RunStatus ps = it == by_key.end() ? runs::RunStatus::kFailed : it->second->status;
    if (ps == runs::RunStatus::kPlanned || ps == runs::RunStatus::kRunning) {
      wait = true;
    } else if (ps == runs::RunStatus::kFailed) {
      runs::Run failed = r;
      failed.status = runs::RunStatus::kFailed;
      failed.extra["error"] = it == by_key.end()
                                  ? fmt::format("its parent run {} is not in the database", parent)
                                  : fmt::format("its parent run {} failed", parent);
      db.update(failed);
      SCALELAB_LOG_ERROR("run {} ({}) not trained: {}", r.id, r.extra.value("key", ""),
                         failed.extra["error"].get<std::string>());
    }
  }
  return wait;
}

}  // namespace

WorkerStats run_worker(runs::RunDb& db, const TrainFn& train_fn, const std::string& device,
                       runs::RunDb::ClaimOrder order) {
  WorkerStats st;
  json::Json owner = to_json(current_process());
  // A GPU worker's device as the coordinator assigned it (recorded with every run it trains).
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES"); v != nullptr && *v != '\0')
    owner["cuda_visible_devices"] = v;
  // Packed with others on its GPU: the share it had (the plan's time estimate scales its rate).
  if (const double share = gpu_share_from_env(); share > 0) {
    owner["gpu_share"] = share;
    // … and whether its GPU ran them at once (an MPS daemon) or took turns.
    if (const char* p = std::getenv("CUDA_MPS_PIPE_DIRECTORY"); p != nullptr && *p != '\0')
      owner["mps"] = true;
  }
  for (;;) {
    std::optional<runs::Run> claimed = db.claim_next(owner, order);
    if (!claimed) {
      if (!branches_wait_for_parents(db)) break;
      // A parent another worker trains: poll, and take it over if that worker died.
      release_runs(db, /*retry_failed=*/false);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    runs::Run run = *claimed;
    const std::string key = run.extra.value("key", std::to_string(run.id));
    train::TrainConfig cfg = train::train_config_from_json(
        run.config, fmt::format("{}: run {} config", db.path().string(), run.id));
    if (!device.empty()) cfg.device = device;
    SCALELAB_LOG_INFO("run {} ({}; budget {}): N = {}, D = {}, {} steps", run.id, key, run.budget,
                      format_int(static_cast<int64_t>(run.N)), format_si(run.D), cfg.max_steps);
    train::TrainResult res;
    try {
      res = train_fn(cfg);
      if (res.status == "interrupted") {
        db.set_status(run.id, runs::RunStatus::kPlanned);
        st.interrupted = true;
        return st;
      }
      record_finished_run(db, run, cfg, res);
      ++st.done;
      SCALELAB_LOG_INFO("run {} ({}) done: val loss {:.4f} in {}", run.id, key, res.final_val_loss,
                        format_duration_s(res.wall_seconds));
    } catch (const std::exception& e) {
      run.status = runs::RunStatus::kFailed;
      run.extra.erase("owner");
      run.extra["error"] = e.what();
      db.update(run);
      ++st.failed;
      SCALELAB_LOG_ERROR("run {} ({}) failed: {}", run.id, key, e.what());
    }
  }
  return st;
}

}  // namespace scalelab::sweep
