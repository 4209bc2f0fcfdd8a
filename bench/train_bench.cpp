// GPU training throughput for docs/benchmarks.md: tokens/s, MFU (PaLM formula against the dense
// bf16 peak, 989 TFLOP/s for H100 SXM) and peak CUDA memory next to accounting's prediction, for a
// model shape. Synthetic batches (random ids) so the number measures the model step, not data
// loading. Usage: train_bench --shape tinystories|gpt2-124m|LxD --batch B [--steps 30] [--warmup 5]
//                    (LxD, e.g. 9x576: the H200 example sweeps' family member of L layers and
//                    width D — vocab 8192, context 256, head dim 32, d_ff a multiple of 32)
//                    [--precision bf16-mixed|fp32] [--attention auto|plain] [--device cuda]
//                    [--breakdown true]   (also time forward, forward+loss, forward+backward,
//                    optimizer)
//                    [--kernels ours|aten|no-norm|no-head]  (scalelab's CUDA kernels,
//                    LibTorch's ops only, or scalelab's without the fused residual add + RMSNorm
//                    or without the fused LM head + loss)
//                    [--fp8-head true]  (the LM head's matmuls in FP8, model/fused.h)
//                    [--profile true]  (LibTorch 2.x + CUDA: the GPU kernels' time per step,
//                    grouped by kernel name, from the Kineto profiler over 3 steps)
//                    [--vocab V]  (the shape's vocabulary replaced: padded vs unpadded)
//                    [--cuda-graphs true]  (the step as `scalelab train` runs it by default on
//                    CUDA: captured once after the warm-up and replayed, train/cuda_graph.h)
#include <fmt/format.h>
#include <torch/torch.h>
#include <torch/version.h>
#if SCALELAB_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/autograd/profiler_kineto.h>
#define SCALELAB_KINETO 1
#endif
#endif

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include <chrono>
#include <functional>
#include <string>

#include "accounting/flops.h"
#include "accounting/memory.h"
#include "accounting/params.h"
#include "common/error.h"
#include "model/fused.h"
#include "model/transformer.h"
#include "sweep/architecture.h"
#include "train/autocast.h"
#include "train/cuda_graph.h"
#include "train/optim.h"

using namespace scalelab;

int main(int argc, char** argv) try {
  std::string shape_name = "tinystories", precision = "bf16-mixed", attention = "auto",
              device = "cuda", kernels = "ours";
  int64_t batch = 64, steps = 30, warmup = 5, vocab = 0;
  bool breakdown = false, profile = false, graphs = false, fp8_head = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--shape")
      shape_name = v;
    else if (k == "--batch")
      batch = std::stoll(v);
    else if (k == "--steps")
      steps = std::stoll(v);
    else if (k == "--warmup")
      warmup = std::stoll(v);
    else if (k == "--precision")
      precision = v;
    else if (k == "--attention")
      attention = v;
    else if (k == "--device")
      device = v;
    else if (k == "--breakdown")
      breakdown = v == "1" || v == "true";
    else if (k == "--profile")
      profile = v == "1" || v == "true";
    else if (k == "--kernels")
      kernels = v;
    else if (k == "--vocab")
      vocab = std::stoll(v);
    else if (k == "--cuda-graphs")
      graphs = v == "1" || v == "true";
    else if (k == "--fp8-head")
      fp8_head = v == "1" || v == "true";
    else
      SCALELAB_FAIL("unknown option {}", k);
  }
  accounting::ModelShape s;
  if (shape_name == "tinystories") {
    s = accounting::find_model_preset("cs336-tinystories").shape;
  } else if (shape_name == "gpt2-124m") {
    s.vocab_size = 50304;
    s.context_length = 1024;
    s.d_model = 768;
    s.d_ff = 2048;
    s.n_layers = 12;
    s.n_heads = 12;
  } else if (int64_t L = 0, d = 0;
             std::sscanf(shape_name.c_str(), "%" SCNd64 "x%" SCNd64, &L, &d) == 2 &&
             shape_name == fmt::format("{}x{}", L, d)) {
    sweep::ArchitectureRule rule;  // examples/h200-sweep*.json's "architecture"
    rule.vocab_size = 8192;
    rule.context_length = 256;
    rule.head_dim = 32;
    rule.multiple = 32;
    SCALELAB_CHECK(
        L > 0 && d > 0 && d % rule.multiple == 0,
        "--shape: LxD needs L > 0 and a width that is a positive multiple of {} (got {})",
        rule.multiple, shape_name);
    s = sweep::family_shape(rule, L, d);
  } else {
    SCALELAB_FAIL("unknown shape {} (tinystories, gpt2-124m or LxD)", shape_name);
  }
  if (vocab > 0) s.vocab_size = vocab;  // e.g. GPT-2's 50257 against its padded 50304
  SCALELAB_CHECK(
      kernels == "ours" || kernels == "aten" || kernels == "no-norm" || kernels == "no-head",
      "--kernels: expected ours, aten, no-norm or no-head");
  model::set_custom_kernels(kernels != "aten");
  model::set_fused_norm(kernels != "no-norm");
  model::set_fused_head(kernels != "no-head");
  torch::Device dev(device);
  SCALELAB_CHECK(!dev.is_cuda() || torch::cuda::is_available(), "no CUDA device");
  const bool bf16 = precision == "bf16-mixed";
  torch::manual_seed(0);
  model::TransformerLM m(s, model::ModelOptions{10000.0, model::parse_attention_impl(attention)});
  m->to(dev);
  train::AdamW opt(m->parameters(), {0.9, 0.95, 1e-8, 0.1});
  const int64_t T = s.context_length;
  auto x = torch::randint(0, s.vocab_size, {batch, T},
                          torch::TensorOptions().dtype(torch::kLong).device(dev));
  auto y = torch::randint(0, s.vocab_size, {batch, T},
                          torch::TensorOptions().dtype(torch::kLong).device(dev));
  auto eager_step = [&] {
    torch::Tensor loss;
    {
      train::AutocastGuard autocast(bf16);
      loss = train::lm_loss(m, x, y, fp8_head);
    }
    loss.backward();
    train::clip_grad_norm(m->parameters(), 1.0);
    opt.step(1e-4);
    opt.zero_grad();
    return loss;
  };
  // With --cuda-graphs: the warm-up steps run on the graphs' stream, then one capture, and every
  // step after is two replays (the loss is the running sum the micro graph adds into).
  std::unique_ptr<train::GraphedStep> graph;
  torch::Tensor loss_sum;
  if (graphs) {
    SCALELAB_CHECK(train::GraphedStep::available(dev),
                   "--cuda-graphs: needs a CUDA build and device");
    loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(dev));
    graph =
        std::make_unique<train::GraphedStep>(train::GraphedStep::Setup{.params = m->parameters(),
                                                                       .optimizer = &opt,
                                                                       .grad_clip = 1.0,
                                                                       .grad_accum = 1,
                                                                       .loss_sum = loss_sum,
                                                                       .batch_size = batch,
                                                                       .context = T,
                                                                       .device = dev});
  }
  int graph_warmups = 0;
  auto step = [&]() -> torch::Tensor {
    if (!graph) return eager_step();
    if (!graph->captured()) {
      torch::Tensor loss;
      graph->warm_up([&] { loss = eager_step(); });
      if (++graph_warmups < 3) return loss;  // three eager steps before the capture, as the trainer
      graph->capture([&](const torch::Tensor& xs, const torch::Tensor& ys) {
        train::AutocastGuard autocast(bf16);
        return train::lm_loss(m, xs, ys, fp8_head);
      });
      return loss;
    }
    loss_sum.zero_();
    graph->micro(x, y);
    graph->update(1e-4);
    return loss_sum;
  };
  auto allocated = [&](bool peak) -> double {
#if SCALELAB_WITH_CUDA
    auto st = c10::cuda::CUDACachingAllocator::getDeviceStats(dev.index() < 0 ? 0 : dev.index());
    return static_cast<double>(peak ? st.allocated_bytes[0].peak : st.allocated_bytes[0].current) /
           (1024.0 * 1024 * 1024);
#else
    (void)peak;
    return 0.0;
#endif
  };
  const double after_init = allocated(false);
  for (int64_t i = 0; i < warmup; ++i) step();
  if (dev.is_cuda()) torch::cuda::synchronize();
  const double steady = allocated(false);
#if SCALELAB_WITH_CUDA
  c10::cuda::CUDACachingAllocator::resetPeakStats(dev.index() < 0 ? 0 : dev.index());
#endif
  auto t0 = std::chrono::steady_clock::now();
  torch::Tensor last;
  for (int64_t i = 0; i < steps; ++i) last = step();
  if (dev.is_cuda()) torch::cuda::synchronize();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double tps = static_cast<double>(batch * T * steps) / secs;
  const accounting::FlopCounts f = accounting::count_flops(s);
  const double mfu = tps * f.palm_per_token / 989.4e12;
  const double peak_gib = allocated(true);
  accounting::MemoryOptions mo;
  mo.batch_size = batch;
  mo.precision = bf16 ? accounting::Precision::kBf16Mixed : accounting::Precision::kFp32;
  mo.flash_attention = attention == "auto" && model::fused_attention_available();
  mo.fused_kernels = dev.is_cuda() && model::custom_kernels_enabled();
  mo.fused_head = mo.fused_kernels && kernels != "no-head";
  mo.fp8_head = fp8_head;
  const accounting::MemoryBreakdown mb = accounting::estimate_memory(s, mo);
  const double G = 1024.0 * 1024 * 1024;
  const double pred_gib = mb.total() / G;
  fmt::print(
      "  memory GiB: after init {:.2f} (pred weights {:.2f}) | steady {:.2f} (pred weights+moments "
      "{:.2f}) | "
      "peak-steady {:.2f} (pred grads+copy+act+logits {:.2f}: grads {:.2f} copy {:.2f} act {:.2f} "
      "logits {:.2f})\n",
      after_init, mb.weights / G, steady, (mb.weights + mb.optimizer) / G, peak_gib - steady,
      (mb.gradients + mb.working_copy + mb.activations + mb.logits) / G, mb.gradients / G,
      mb.working_copy / G, mb.activations / G, mb.logits / G);
  // With graphs the step's memory lives in the graphs' private pool, allocated at the capture
  // (before the peak was reset): the peak then says nothing of the step.
  const std::string memory =
      graphs ? fmt::format("peak CUDA n/a with graphs (predicted {:.2f} GiB)", pred_gib)
             : fmt::format("peak CUDA {:.2f} GiB vs predicted {:.2f} GiB ({:+.1f}%)", peak_gib,
                           pred_gib, peak_gib > 0 ? 100 * (pred_gib / peak_gib - 1) : 0.0);
  fmt::print(
      "shape {} params {} batch {}x{} {} attention {} | {:.0f} tok/s | {:.1f} ms/step | MFU "
      "{:.1f}% | {} | loss {:.3f} | fused_adamw {} | kernels {} | cuda_graphs {} | fp8_head {}\n",
      shape_name, accounting::count_params(s).total, batch, T, precision, attention, tps,
      1e3 * secs / steps, 100 * mfu, memory, last.item<double>(), opt.fused(), kernels, graphs,
      fp8_head);
  {
    // What one forward keeps for backward (activations, the saved logits, autocast's bf16 weight
    // copies that the matmuls saved), next to the model's terms for them.
    if (dev.is_cuda()) torch::cuda::synchronize();
    const double before = allocated(false);
    torch::Tensor loss;
    {
      train::AutocastGuard autocast(bf16);
      loss = train::lm_loss(m, x, y, fp8_head);
    }
    if (dev.is_cuda()) torch::cuda::synchronize();
    const double kept = allocated(false) - before;
    loss.backward();
    opt.zero_grad();
    // The saved logits (or, with the fused head, the gradient written over them; E5M2 with FP8).
    const double saved_logits = static_cast<double>(batch * T * s.vocab_size) *
                                (fp8_head ? 1
                                 : bf16   ? 2
                                          : 4) /
                                G;
    fmt::print(
        "  forward keeps {:.2f} GiB | predicted {:.2f} ({:+.1f}%): activations {:.2f} + saved "
        "logits {:.2f} + bf16 weight copies {:.2f}\n",
        kept, mb.activations / G + saved_logits + mb.working_copy / G,
        100 * ((mb.activations / G + saved_logits + mb.working_copy / G) / kept - 1),
        mb.activations / G, saved_logits, mb.working_copy / G);
  }
  if (profile) {
#if SCALELAB_KINETO
    // GPU time per step by kernel name over 3 profiled steps, largest first, and the sum of all
    // kernels next to the wall-clock step (the gap is time the GPU sat idle).
    namespace tp = torch::profiler::impl;
    const tp::ProfilerConfig cfg(tp::ProfilerState::KINETO);
    const std::set<tp::ActivityType> acts{tp::ActivityType::CPU, tp::ActivityType::CUDA};
    torch::autograd::profiler::prepareProfiler(cfg, acts);
    torch::autograd::profiler::enableProfiler(cfg, acts);
    const int n = 3;
    auto a = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) step();
    torch::cuda::synchronize();
    const double wall_ms =
        1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count() / n;
    auto result = torch::autograd::profiler::disableProfiler();
    std::map<std::string, std::pair<double, int64_t>> by_name;  // ms per step, launches per step
    double total = 0;
    for (const auto& e : result->events()) {
      if (e.deviceType() != c10::DeviceType::CUDA) continue;
      auto& slot = by_name[e.name().substr(0, 96)];
      const double ms = static_cast<double>(e.durationNs()) / 1e6 / n;
      slot.first += ms;
      slot.second += 1;
      total += ms;
    }
    std::vector<std::pair<std::string, std::pair<double, int64_t>>> rows(by_name.begin(),
                                                                         by_name.end());
    std::sort(rows.begin(), rows.end(),
              [](const auto& x, const auto& y) { return x.second.first > y.second.first; });
    fmt::print("  profile: kernels {:.1f} ms per step of {:.1f} ms wall (profiler on)\n", total,
               wall_ms);
    for (size_t i = 0; i < rows.size() && i < 40; ++i)
      fmt::print("  {:7.2f} ms {:5.1f}% x{:<4} {}\n", rows[i].second.first,
                 100 * rows[i].second.first / total, rows[i].second.second / n, rows[i].first);
#else
    fmt::print("  profile: needs LibTorch 2.x with CUDA (SCALELAB_WITH_CUDA)\n");
#endif
  }
  if (breakdown) {
    // Where a step's time goes: forward only, + loss, + backward, and the full step (clip + AdamW).
    auto timed = [&](const char* what, const std::function<void()>& fn) {
      for (int i = 0; i < 3; ++i) fn();
      if (dev.is_cuda()) torch::cuda::synchronize();
      auto a = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < steps; ++i) fn();
      if (dev.is_cuda()) torch::cuda::synchronize();
      double ms = 1e3 *
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count() /
                  static_cast<double>(steps);
      fmt::print("  {:<28} {:8.2f} ms\n", what, ms);
    };
    auto fwd = [&](bool with_loss) {
      train::AutocastGuard autocast(bf16);
      auto logits = m(x);
      return with_loss ? train::cross_entropy(logits, y) : logits.sum();
    };
    timed("forward (no grad)", [&] {
      torch::NoGradGuard ng;
      fwd(false);
    });
    timed("forward + loss (no grad)", [&] {
      torch::NoGradGuard ng;
      fwd(true);
    });
    timed("forward + loss + backward", [&] {
      fwd(true).backward();
      opt.zero_grad();
    });
    timed("full step", [&] { step(); });
    timed("clip + AdamW only", [&] {
      for (auto& p : m->parameters()) p.mutable_grad() = torch::zeros_like(p);
      train::clip_grad_norm(m->parameters(), 1.0);
      opt.step(1e-4);
    });
  }
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return 1;
}
