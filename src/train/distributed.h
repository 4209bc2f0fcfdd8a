// Data parallelism on PyTorch's c10d (docs/distributed.md): the ranks of a World (train/world.h)
// meet at a c10d::TCPStore that rank 0 hosts at MASTER_ADDR:MASTER_PORT, then talk through
// ProcessGroupNCCL on CUDA devices and ProcessGroupGloo on the CPU. What the trainer needs of it:
//   broadcast   rank 0's parameters to every rank at the start (they are seeded alike, but a
//               resumed or imported state must not drift);
//   gradients   every parameter's gradient becomes a view into one of a few flat buckets
//               (bucket_bytes each, one dtype and device per bucket; DDP's
//               gradient_as_bucket_view), so the all-reduce runs on the buckets in place, without
//               copies: sum over ranks, then ÷ world size (Gloo has no AVG). The gradients stay
//               allocated from then on and are zeroed in place (autograd accumulates into a defined
//               gradient in place);
//   overlap     as DDP's reducer does: buckets are filled in reverse parameter order (the order
//               backward produces gradients), a hook after each parameter's gradient accumulation
//               counts it in, and a bucket whose gradients are all in starts its all-reduce while
//               backward goes on — buckets strictly in order, so every rank issues the same
//               collectives in the same order. Armed for the backward whose gradients are final
//               (the last micro-batch); finish_gradients() then waits. Runs with CUDA graphs,
//               whose replayed backward runs no host code, all-reduce after it (no hooks);
//   sum         a few scalars at the host-sync points (losses, evaluation sums, a stop request).
// Every call is collective: all ranks make it, in the same order. Failures — a peer that died
// (its sockets close), a rank that never joins, a collective that outlives `timeout` — throw a
// one-line error naming this rank, never hang past the timeout.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "train/world.h"

namespace scalelab::train {

class DataParallel {
 public:
  // Joins the world: TCPStore (rank 0 serves it and waits for world.size ranks), then the
  // backend for `device` (NCCL for CUDA, Gloo for CPU). Throws when the backend is not built in,
  // when the rendezvous does not complete within `timeout`.
  DataParallel(const World& world, const torch::Device& device, std::chrono::milliseconds timeout);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int64_t rank() const;
  int64_t size() const;
  const char* backend() const;  // "nccl" | "gloo"

  // Rank 0's values into every rank's tensors, in place (coalesced through flat buffers).
  void broadcast(const std::vector<torch::Tensor>& tensors);
  // Makes each parameter's gradient a view into a flat bucket (zeroed) and, with overlap, hooks
  // its gradient accumulation. Call once, before the first backward and before a CUDA-graph
  // capture (without overlap then: see Trainer).
  void attach_gradients(const std::vector<torch::Tensor>& params, int64_t bucket_bytes,
                        bool overlap);
  // The mean of the gradients over ranks, in place in the buckets, after backward.
  void average_gradients();
  // Overlapped: arm_overlap() before the backward that completes the gradients; each bucket's
  // all-reduce starts as soon as its gradients are in. finish_gradients() after that backward
  // starts what no hook started (parameters without a gradient), waits for all, divides by the
  // world size, and disarms. Unarmed, the hooks do nothing and finish_gradients() is
  // average_gradients().
  void arm_overlap();
  void finish_gradients();
  void zero_gradients();
  // Sum over ranks, in place; `t` is a small contiguous tensor on the device.
  void sum(torch::Tensor& t);
  void barrier();

  struct Impl;  // opaque (distributed.cpp); public so that the gradient hooks can reach it

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether this build links c10d's Gloo (CPU) and NCCL (CUDA) backends.
bool gloo_built();
bool nccl_built();

}  // namespace scalelab::train
