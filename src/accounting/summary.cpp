// Builds the AccountSummary and renders it. Every line of the text output states its convention.
#include "accounting/summary.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"
#include "common/format.h"

namespace scalelab::accounting {

void AccountOptions::validate() const {
  SCALELAB_CHECK(memory.batch_size > 0, "batch-size: must be positive (got {})", memory.batch_size);
  SCALELAB_CHECK(flops.seq_len >= 0, "seq-len: must be positive, or 0 for context_length (got {})",
                 flops.seq_len);
  SCALELAB_CHECK(n_gpus > 0, "n-gpus: must be positive (got {})", n_gpus);
  SCALELAB_CHECK(std::isfinite(tokens) && tokens >= 0,
                 "tokens: must be positive, or 0 for 20 per parameter (got {})", tokens);
  SCALELAB_CHECK(std::isfinite(mfu) && mfu > 0 && mfu <= 1, "mfu: must be in (0, 1] (got {})", mfu);
  SCALELAB_CHECK(std::isfinite(reserve_gib) && reserve_gib >= 0,
                 "reserve-gib: must be >= 0 (got {})", reserve_gib);
  SCALELAB_CHECK(kv_cache_bytes == 1 || kv_cache_bytes == 2 || kv_cache_bytes == 4,
                 "kv-cache-bytes: must be 1, 2 or 4 (got {})", kv_cache_bytes);
}

AccountSummary summarize(const ModelShape& shape, const AccountOptions& opt, std::string label) {
  opt.validate();
  shape.validate();
  AccountSummary s;
  s.model_label = std::move(label);
  s.shape = shape.resolved();
  s.options = opt;
  s.options.memory.seq_len = opt.flops.seq_len;
  s.params = count_params(s.shape);
  s.flops = count_flops(s.shape, opt.flops);
  s.memory = estimate_memory(s.shape, s.options.memory);
  s.gpu = &find_gpu(opt.gpu);
  s.dtype = compute_dtype(opt.memory.precision);
  s.tokens = opt.tokens > 0 ? opt.tokens : 20.0 * static_cast<double>(s.params.total);
  s.training_flops = training_flops(s.flops, s.tokens);
  s.six_nd = 6.0 * static_cast<double>(s.params.total) * s.tokens;
  s.palm_flops = s.flops.palm_per_token * s.tokens;
  s.kv_bytes_per_token = kv_cache_bytes_per_token(s.shape, opt.kv_cache_bytes);
  s.kv_bytes_context = s.kv_bytes_per_token * static_cast<double>(s.flops.seq_len);
  s.max_batch = max_batch_size(s.shape, s.options.memory, s.gpu->memory_bytes(),
                               opt.reserve_gib * 1024.0 * 1024.0 * 1024.0);
  s.time_to_train_s =
      time_to_train_s(s.flops, s.tokens, opt.mfu, s.gpu->peak_tflops(s.dtype), opt.n_gpus);
  return s;
}

namespace {
std::string share(double part, double whole) {
  return whole > 0 ? format_percent(part / whole) : "-";
}
}  // namespace

std::string to_text(const AccountSummary& s) {
  const ModelShape& m = s.shape;
  std::string out;
  out += fmt::format("scalelab account: {}\n", s.model_label);
  out += fmt::format(
      "shape: vocab_size {}, context_length {}, d_model {}, n_layers {}, n_heads {}, n_kv_heads "
      "{}, "
      "d_ff {}, ffn {}, tied_embeddings {}, rope {}\n\n",
      m.vocab_size, m.context_length, m.d_model, m.n_layers, m.n_heads, m.n_kv_heads, m.d_ff,
      to_string(m.ffn), m.tied_embeddings, m.rope);

  // Parameters.
  TextTable pt({"parameters", "shape", "count", "share"});
  const double total = static_cast<double>(s.params.total);
  for (const auto& c : s.params.components) {
    pt.add_row({c.name, c.shape, format_int(c.count), share(static_cast<double>(c.count), total)});
  }
  pt.add_separator();
  pt.add_row({"total", "", format_int(s.params.total), "100.0%"});
  out += pt.str();
  out += fmt::format("  embedding      {:>16}  token-embedding table\n",
                     format_int(s.params.embedding));
  out += fmt::format("  non-embedding  {:>16}  total − embedding (Kaplan et al. 2020 N)\n",
                     format_int(s.params.non_embedding));
  out += fmt::format(
      "  matmul-only    {:>16}  weights in matmuls: attention, FFN, LM head (PaLM/torchtitan)\n\n",
      format_int(s.params.matmul));

  // Forward FLOPs.
  const auto& mm = s.flops.matmul;
  TextTable ft({fmt::format("forward matmul FLOPs per sequence ({} tokens, {} attention)",
                            format_int(s.flops.seq_len), to_string(s.flops.attention)),
                "FLOPs", "share"});
  const double fwd = static_cast<double>(mm.total());
  for (const auto& e : mm.entries())
    ft.add_row({e.name, format_int(e.flops), share(static_cast<double>(e.flops), fwd)});
  ft.add_separator();
  ft.add_row({"total (matmul)", format_int(mm.total()), "100.0%"});
  out += ft.str();
  out += fmt::format(
      "  FFN (W1+W3+W2) {}, attention (QKV+QK^T+AV+O) {}; a matmul (m×n)(n×p) = 2mnp FLOPs\n\n",
      format_int(mm.ffn()), format_int(mm.attention()));

  TextTable nt({"forward non-matmul FLOPs per sequence (not in totals)", "FLOPs", "vs matmul"});
  for (const auto& e : s.flops.non_matmul.entries())
    nt.add_row({e.name, format_int(e.flops), share(static_cast<double>(e.flops), fwd)});
  nt.add_separator();
  nt.add_row({"total (non-matmul)", format_int(s.flops.non_matmul.total()),
              share(static_cast<double>(s.flops.non_matmul.total()), fwd)});
  out += nt.str() + "\n";

  // Training FLOPs.
  TextTable tt({"training FLOPs", "per token",
                fmt::format("for D = {} tokens", format_si(s.tokens)), "vs exact"});
  const double D = s.tokens;
  tt.add_row({"forward (exact matmul)", format_sci(s.flops.forward_per_token, 4),
              format_sci(s.flops.forward_per_token * D, 4), ""});
  tt.add_row({"backward (2 × forward)", format_sci(s.flops.backward_per_token, 4),
              format_sci(s.flops.backward_per_token * D, 4), ""});
  tt.add_row({"training (3 × forward)", format_sci(s.flops.training_per_token, 4),
              format_sci(s.training_flops, 4), "1.000"});
  tt.add_row({"6·N·D (N = total params)", format_sci(s.flops.six_n_per_token, 4),
              format_sci(s.six_nd, 4),
              fmt::format("{:.3f}", s.flops.six_n_per_token / s.flops.training_per_token)});
  tt.add_row(
      {"6·N·D (N = non-embedding)", format_sci(s.flops.six_n_nonembed_per_token, 4),
       format_sci(s.flops.six_n_nonembed_per_token * D, 4),
       fmt::format("{:.3f}", s.flops.six_n_nonembed_per_token / s.flops.training_per_token)});
  tt.add_row({"PaLM 6N + 12·L·H·Q·T (N = matmul)", format_sci(s.flops.palm_per_token, 4),
              format_sci(s.palm_flops, 4),
              fmt::format("{:.3f}", s.flops.palm_per_token / s.flops.training_per_token)});
  out += tt.str();
  out += fmt::format("  one AdamW step: {} FLOPs ({} per parameter)\n",
                     format_int(s.flops.adamw_step), kAdamwFlopsPerParam);
  if (s.options.tokens <= 0)
    out += "  D defaults to 20 tokens per parameter (Hoffmann et al. 2022)\n";
  out += "\n";

  // Memory.
  const auto& mem = s.memory;
  TextTable mt({fmt::format("training memory ({}, batch {} × {} tokens, {} attention{})",
                            to_string(mem.precision), mem.batch_size, mem.seq_len,
                            mem.flash_attention ? "fused" : "plain",
                            mem.recompute ? ", full recompute" : ""),
                "GiB", "share"});
  const double mt_total = mem.total();
  auto gib = [](double b) { return fmt::format("{:.3f}", b / (1024.0 * 1024.0 * 1024.0)); };
  mt.add_row({mem.precision == Precision::kBf16 ? "weights (bf16)" : "weights (fp32, master copy)",
              gib(mem.weights), share(mem.weights, mt_total)});
  if (mem.working_copy > 0)
    mt.add_row({"bf16 working copy of matmul weights", gib(mem.working_copy),
                share(mem.working_copy, mt_total)});
  mt.add_row({"gradients", gib(mem.gradients), share(mem.gradients, mt_total)});
  mt.add_row({"AdamW moments (m, v)", gib(mem.optimizer), share(mem.optimizer, mt_total)});
  mt.add_row({"activations", gib(mem.activations), share(mem.activations, mt_total)});
  mt.add_row({"logits and their gradient", gib(mem.logits), share(mem.logits, mt_total)});
  mt.add_separator();
  mt.add_row({"total training peak", gib(mt_total), "100.0%"});
  out += mt.str();
  out += fmt::format(
      "  activations per layer per sequence: {} MiB fused attention, {} MiB plain attention\n",
      fmt::format("{:.2f}", mem.activations_per_layer_per_seq_flash / 1048576.0),
      fmt::format("{:.2f}", mem.activations_per_layer_per_seq_plain / 1048576.0));
  out += fmt::format("  KV cache (inference, {} B/element): {} KiB per token, {} for {} tokens\n",
                     s.options.kv_cache_bytes, fmt::format("{:.1f}", s.kv_bytes_per_token / 1024.0),
                     format_gib(s.kv_bytes_context), format_int(s.flops.seq_len));
  out += fmt::format("  largest batch on {} ({} GiB, {} GiB reserved): {} sequences of {} tokens\n",
                     s.gpu->name,
                     fmt::format("{:.2f}", s.gpu->memory_bytes() / (1024.0 * 1024.0 * 1024.0)),
                     fmt::format("{:.2f}", s.options.reserve_gib), format_int(s.max_batch),
                     format_int(mem.seq_len));
  out += fmt::format(
      "  time to train D = {} tokens on {} × {} at {} MFU ({} dense peak {} TFLOP/s): {}\n",
      format_si(s.tokens), s.options.n_gpus, s.gpu->name, format_percent(s.options.mfu, 0),
      to_string(s.dtype), s.gpu->peak_tflops(s.dtype), format_duration_s(s.time_to_train_s));
  return out;
}

json::Json to_json(const AccountSummary& s) {
  json::Json j;
  j["model"] = s.model_label;
  j["shape"] = to_json(s.shape);
  j["params"] = to_json(s.params);
  j["flops"] = to_json(s.flops);
  j["tokens"] = s.tokens;
  j["training_flops"] = {{"exact", s.training_flops}, {"six_nd", s.six_nd}, {"palm", s.palm_flops}};
  j["memory"] = to_json(s.memory);
  j["kv_cache"] = {{"bytes_per_element", s.options.kv_cache_bytes},
                   {"bytes_per_token", s.kv_bytes_per_token},
                   {"bytes_for_context", s.kv_bytes_context}};
  j["gpu"] = to_json(*s.gpu);
  j["dtype"] = std::string(to_string(s.dtype));
  j["n_gpus"] = s.options.n_gpus;
  j["reserve_gib"] = s.options.reserve_gib;
  j["max_batch_size"] = s.max_batch;
  j["mfu"] = s.options.mfu;
  j["time_to_train_seconds"] = s.time_to_train_s;
  return j;
}

}  // namespace scalelab::accounting
