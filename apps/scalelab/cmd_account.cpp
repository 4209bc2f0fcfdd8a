// `scalelab account`: exact parameters, FLOPs and memory of a model shape, before any GPU time is
// spent. Subcommands: `account mfu` (MFU from a measured throughput), `account gpus` (peak table),
// `account presets` (named shapes).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "accounting/summary.h"
#include "commands.h"
#include "common/format.h"
#include "config_flags.h"
#include "model_options.h"

namespace scalelab::app {

namespace {

using namespace accounting;

struct AccountCliOptions {
  ModelOptions model;
  AccountOptions account;
  std::string attention{to_string(AccountOptions{}.flops.attention)};
  std::string precision{to_string(AccountOptions{}.memory.precision)};
  bool json = false;
};

struct MfuCliOptions {
  ModelOptions model;
  FlopOptions flops;
  MfuInput input;
  std::string gpu = AccountOptions{}.gpu;
  std::string dtype{to_string(Dtype::kBf16)};
  std::string attention{to_string(FlopOptions{}.attention)};
  bool json = false;
};

void setup_attention(CLI::App& app, std::string& attention) {
  app.add_option("--attention", attention,
                 "Count attention FLOPs over the full T×T matrix or only the causal triangle")
      ->check(CLI::IsMember({"full", "causal"}))
      ->capture_default_str();
}

void run_account(const AccountCliOptions& o) {
  std::string label;
  ModelShape shape = resolve_model(o.model, &label);
  AccountOptions opt = o.account;
  opt.flops.attention = parse_attention_count(o.attention);
  opt.memory.precision = parse_precision(o.precision);
  AccountSummary s = summarize(shape, opt, label);
  if (o.json) {
    std::cout << to_json(s).dump(2) << "\n";
  } else {
    std::cout << to_text(s);
  }
}

void run_mfu(const MfuCliOptions& o) {
  std::string label;
  ModelShape shape = resolve_model(o.model, &label);
  FlopOptions fo = o.flops;
  fo.attention = parse_attention_count(o.attention);
  FlopCounts flops = count_flops(shape, fo);
  const GpuSpec& gpu = find_gpu(o.gpu);
  Dtype dtype = parse_dtype(o.dtype);
  MfuInput in = o.input;
  in.peak_tflops_per_gpu = gpu.peak_tflops(dtype);
  MfuResult r = compute_mfu(flops, in);
  if (o.json) {
    json::Json j{{"model", label},
                 {"shape", to_json(shape.resolved())},
                 {"gpu", gpu.name},
                 {"dtype", std::string(to_string(dtype))},
                 {"n_gpus", in.n_gpus},
                 {"peak_tflops_per_gpu", in.peak_tflops_per_gpu},
                 {"tokens_per_second", in.tokens_per_second},
                 {"model_flops_per_token_palm", r.model_flops_per_token},
                 {"exact_training_flops_per_token", r.exact_flops_per_token},
                 {"achieved_tflops_per_gpu", r.achieved_tflops},
                 {"mfu", r.mfu},
                 {"mfu_exact", r.mfu_exact},
                 {"hfu_with_full_recompute", r.hfu_with_recompute}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format(
      "scalelab account mfu: {}, {} tokens/s on {} × {} ({} dense peak {} TFLOP/s each)\n", label,
      format_si(in.tokens_per_second), in.n_gpus, gpu.name, to_string(dtype),
      in.peak_tflops_per_gpu);
  TextTable t({"measure", "FLOPs per token", "TFLOP/s per GPU", "utilisation"});
  double per_gpu = in.tokens_per_second / static_cast<double>(in.n_gpus) / 1e12;
  t.add_row({"MFU (PaLM 6N + 12·L·H·Q·T)", format_sci(r.model_flops_per_token, 4),
             fmt::format("{:.1f}", per_gpu * r.model_flops_per_token), format_percent(r.mfu)});
  t.add_row({fmt::format("MFU (exact matmul, {} attention)", to_string(fo.attention)),
             format_sci(r.exact_flops_per_token, 4),
             fmt::format("{:.1f}", per_gpu * r.exact_flops_per_token),
             format_percent(r.mfu_exact)});
  double hfu_flops = r.exact_flops_per_token + flops.forward_per_token;
  t.add_row({"HFU with full recomputation (4 × forward)", format_sci(hfu_flops, 4),
             fmt::format("{:.1f}", per_gpu * hfu_flops), format_percent(r.hfu_with_recompute)});
  std::cout << t.str();
}

void run_gpus(bool as_json) {
  if (as_json) {
    json::Json j = json::Json::array();
    for (const auto& g : gpu_table()) j.push_back(to_json(g));
    std::cout << j.dump(2) << "\n";
    return;
  }
  TextTable t(
      {"gpu", "memory GiB", "TB/s", "fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "description"});
  auto tf = [](double v) { return v > 0 ? fmt::format("{:g}", v) : std::string("-"); };
  for (const auto& g : gpu_table()) {
    t.add_row({g.name, fmt::format("{:.2f}", g.memory_bytes() / (1024.0 * 1024.0 * 1024.0)),
               fmt::format("{:g}", g.memory_bandwidth_tbs), tf(g.fp64), tf(g.fp32), tf(g.tf32),
               tf(g.bf16), tf(g.fp16), tf(g.fp8), g.description});
  }
  std::cout << "dense peak TFLOP/s per dtype (never the 2:4-sparsity figures); memory as "
               "nvidia-smi reports it\n"
            << t.str();
}

void run_presets(bool as_json) {
  if (as_json) {
    json::Json j = json::Json::array();
    for (const auto& p : model_presets()) {
      j.push_back({{"name", p.name},
                   {"description", p.description},
                   {"shape", to_json(p.shape.resolved())},
                   {"params", count_params(p.shape).total}});
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  TextTable t({"preset", "params", "layers", "d_model", "heads", "d_ff", "vocab", "context",
               "description"});
  for (const auto& p : model_presets()) {
    ModelShape s = p.shape.resolved();
    t.add_row({p.name, format_int(count_params(s).total), std::to_string(s.n_layers),
               std::to_string(s.d_model), std::to_string(s.n_heads), std::to_string(s.d_ff),
               std::to_string(s.vocab_size), std::to_string(s.context_length), p.description});
  }
  std::cout << t.str();
}

}  // namespace

Command setup_account(CLI::App& app) {
  auto* sub =
      app.add_subcommand("account", "Exact parameter, FLOP and memory accounting of a model shape");
  auto o = std::make_shared<AccountCliOptions>();
  add_model_options(*sub, o->model);
  sub->add_option("--batch-size", o->account.memory.batch_size, "Sequences per step (per GPU)")
      ->capture_default_str();
  sub->add_option("--seq-len", o->account.flops.seq_len, "Sequence length (0 = context length)")
      ->capture_default_str();
  sub->add_option("--precision", o->precision, "Precision policy")
      ->check(CLI::IsMember(fields::enum_choices<Precision>()))
      ->capture_default_str();
  sub->add_option("--flash", o->account.memory.flash_attention,
                  "Fused (flash) attention: no T×T probabilities saved (true/false)")
      ->capture_default_str();
  sub->add_option("--recompute", o->account.memory.recompute,
                  "Full activation recomputation (true/false)")
      ->capture_default_str();
  sub->add_option("--fused-kernels", o->account.memory.fused_kernels,
                  "scalelab's CUDA kernels (the fused LM head + loss, SwiGLU, norms), as training "
                  "on a GPU uses them (true/false)")
      ->capture_default_str();
  sub->add_option("--fp8-head", o->account.memory.fp8_head,
                  "With --fused-kernels: the LM head's matmuls in FP8, as train's fp8_head "
                  "(true/false)")
      ->capture_default_str();
  setup_attention(*sub, o->attention);
  sub->add_option("--gpu", o->account.gpu,
                  "GPU for memory fit and time to train (see `account gpus`)")
      ->capture_default_str();
  sub->add_option("--n-gpus", o->account.n_gpus, "GPUs for time to train")->capture_default_str();
  sub->add_option("--tokens", o->account.tokens, "Training tokens D (0 = 20 per parameter)")
      ->capture_default_str();
  sub->add_option("--mfu", o->account.mfu, "Assumed MFU for time to train, in (0, 1]")
      ->capture_default_str();
  sub->add_option("--reserve-gib", o->account.reserve_gib,
                  "GPU memory kept free when fitting a batch (GiB)")
      ->capture_default_str();
  sub->add_option("--kv-cache-bytes", o->account.kv_cache_bytes,
                  "Bytes per KV-cache element (1, 2 or 4)")
      ->capture_default_str();
  add_bool_flag(*sub, "--json", o->json, "Print JSON instead of tables");

  auto* mfu = sub->add_subcommand("mfu", "Model FLOPs utilisation from a measured throughput");
  auto m = std::make_shared<MfuCliOptions>();
  add_model_options(*mfu, m->model);
  mfu->add_option("--tokens-per-sec", m->input.tokens_per_second,
                  "Measured training tokens/s, all GPUs")
      ->required();
  mfu->add_option("--gpu", m->gpu, "GPU (see `account gpus`)")->capture_default_str();
  mfu->add_option("--n-gpus", m->input.n_gpus, "Number of GPUs")->capture_default_str();
  mfu->add_option("--dtype", m->dtype, "Peak to compare against")
      ->check(CLI::IsMember(fields::enum_choices<Dtype>()))
      ->capture_default_str();
  mfu->add_option("--seq-len", m->flops.seq_len, "Sequence length (0 = context length)")
      ->capture_default_str();
  setup_attention(*mfu, m->attention);
  add_bool_flag(*mfu, "--json", m->json, "Print JSON");

  auto* gpus = sub->add_subcommand("gpus", "List the GPU peak table");
  auto gpus_json = std::make_shared<bool>(false);
  add_bool_flag(*gpus, "--json", *gpus_json, "Print JSON");
  auto* presets = sub->add_subcommand("presets", "List the named model shapes");
  auto presets_json = std::make_shared<bool>(false);
  add_bool_flag(*presets, "--json", *presets_json, "Print JSON");
  sub->require_subcommand(0, 1);

  return {sub, [sub, mfu, gpus, presets, o, m, gpus_json, presets_json] {
            if (mfu->parsed()) return run_mfu(*m);
            if (gpus->parsed()) return run_gpus(*gpus_json);
            if (presets->parsed()) return run_presets(*presets_json);
            run_account(*o);
          }};
}

}  // namespace scalelab::app
