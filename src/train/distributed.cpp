// c10d data parallelism (see distributed.h).
#include "train/distributed.h"

#include <torch/version.h>

#include <cstdlib>
#include <exception>
#include <map>
#include <stdexcept>
#include <utility>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if SCALELAB_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if SCALELAB_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "common/error.h"

namespace scalelab::train {

namespace {

// LibTorch 2 split the backends (ProcessGroupGloo, ProcessGroupNCCL) from the ProcessGroup that
// dispatches to them; 1.13's backends are ProcessGroups. Both have the calls used here.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

// The first line of an exception's message: c10::Error appends a C++ stack.
std::string first_line(const std::exception& e) {
  std::string s = e.what();
  if (const auto* c10e = dynamic_cast<const c10::Error*>(&e)) s = c10e->what_without_backtrace();
  const size_t nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

bool gloo_built() { return SCALELAB_WITH_GLOO != 0; }
bool nccl_built() { return SCALELAB_WITH_NCCL != 0; }

struct DataParallel::Impl {
  World world;
  torch::Device device = torch::kCPU;
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> pg;
  const char* backend = "";
  std::vector<torch::Tensor> buckets;  // flat gradient buckets, the gradients' storage

  // Runs one collective and waits for it; a failure is a one-line error naming the rank.
  void run(const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) const {
    try {
      c10::intrusive_ptr<c10d::Work> work = start();
      // Gloo: blocks until done or the timeout; NCCL: makes the current stream wait for it. It
      // throws when the work failed and returns false when it was aborted.
      if (!work->wait(timeout)) throw std::runtime_error("the collective was aborted");
    } catch (const std::exception& e) {
      SCALELAB_FAIL(
          "distributed: rank {} of {}: {} failed ({}): {} (another rank exited or stopped "
          "answering; its own error says why)",
          world.rank, world.size, what, backend, first_line(e));
    }
  }
};

DataParallel::DataParallel(const World& world, const torch::Device& device,
                           std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.world = world;
  m.device = device;
  m.timeout = timeout;
  const double secs = std::chrono::duration<double>(timeout).count();
  SCALELAB_CHECK(
      device.is_cuda() ? nccl_built() : gloo_built(),
      "distributed: {} training needs c10d's {} backend, which this build does not "
      "have ({})",
      device.is_cuda() ? "CUDA" : "CPU", device.is_cuda() ? "NCCL" : "Gloo",
      device.is_cuda() ? "LibTorch without NCCL headers" : "install libgloo-dev and rebuild");
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(world.master_port);
    o.isServer = world.rank == 0;
    o.numWorkers = static_cast<size_t>(world.size);
    o.waitWorkers = true;
    o.timeout = timeout;
    m.store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, o);
  } catch (const std::exception& e) {
    SCALELAB_FAIL(
        "distributed: rank {} of {}: the rendezvous at {}:{} did not complete within {:g} s "
        "(WORLD_SIZE={}: {}): {}",
        world.rank, world.size, world.master_addr, world.master_port, secs, world.size,
        world.rank == 0 ? "fewer ranks joined"
                        : "rank 0 is not reachable there, or not every rank started",
        first_line(e));
  }
  try {
    if (device.is_cuda()) {
#if SCALELAB_WITH_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      m.pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(m.store, static_cast<int>(world.rank),
                                                         static_cast<int>(world.size), opts);
      m.backend = "nccl";
#endif
    } else {
#if SCALELAB_WITH_GLOO
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      opts->threads = 2;
      m.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(m.store, static_cast<int>(world.rank),
                                                         static_cast<int>(world.size), opts);
      m.backend = "gloo";
#endif
    }
  } catch (const std::exception& e) {
    SCALELAB_FAIL(
        "distributed: rank {} of {}: the {} process group did not form within {:g} s "
        "(WORLD_SIZE={}: not every rank joined, or one cannot reach another): {}",
        world.rank, world.size, device.is_cuda() ? "NCCL" : "Gloo", secs, world.size,
        first_line(e));
  }
}

DataParallel::~DataParallel() = default;

int64_t DataParallel::rank() const { return impl_->world.rank; }
int64_t DataParallel::size() const { return impl_->world.size; }
const char* DataParallel::backend() const { return impl_->backend; }

void DataParallel::broadcast(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard ng;
  // One flat buffer per dtype: a handful of collectives, not one per tensor.
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[t.scalar_type()].push_back(t);
  for (auto& [dtype, group] : by_dtype) {
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : group) flat_parts.push_back(t.detach().reshape({-1}));
    std::vector<torch::Tensor> flat{torch::cat(flat_parts)};
    impl_->run("broadcast", [&] {
      c10d::BroadcastOptions o;
      o.rootRank = 0;
      return impl_->pg->broadcast(flat, o);
    });
    int64_t off = 0;
    for (const auto& t : group) {
      t.detach().copy_(flat[0].narrow(0, off, t.numel()).view(t.sizes()));
      off += t.numel();
    }
  }
}

void DataParallel::attach_gradients(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard ng;
  impl_->buckets.clear();
  // Consecutive parameters of one dtype fill a bucket up to kBucketBytes (a larger parameter has
  // a bucket of its own).
  size_t i = 0;
  while (i < params.size()) {
    const auto opts = params[i].options();
    const int64_t elem = static_cast<int64_t>(params[i].element_size());
    size_t j = i;
    int64_t numel = 0;
    while (j < params.size() && params[j].scalar_type() == params[i].scalar_type() &&
           params[j].device() == params[i].device() &&
           (j == i || (numel + params[j].numel()) * elem <= kBucketBytes))
      numel += params[j++].numel();
    torch::Tensor flat = torch::zeros({numel}, opts);
    int64_t off = 0;
    for (size_t k = i; k < j; ++k) {
      torch::Tensor p = params[k];
      p.mutable_grad() = flat.narrow(0, off, p.numel()).view(p.sizes());
      off += p.numel();
    }
    impl_->buckets.push_back(flat);
    i = j;
  }
}

void DataParallel::average_gradients() {
  for (torch::Tensor& b : impl_->buckets) {
    std::vector<torch::Tensor> one{b};
    impl_->run("gradient all-reduce", [&] {
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      return impl_->pg->allreduce(one, o);
    });
    if (impl_->world.size > 1) b.div_(static_cast<double>(impl_->world.size));
  }
}

void DataParallel::zero_gradients() {
  for (torch::Tensor& b : impl_->buckets) b.zero_();
}

void DataParallel::sum(torch::Tensor& t) {
  std::vector<torch::Tensor> one{t};
  impl_->run("all-reduce", [&] {
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    return impl_->pg->allreduce(one, o);
  });
}

void DataParallel::barrier() {
  impl_->run("barrier", [&] { return impl_->pg->barrier(c10d::BarrierOptions()); });
}

}  // namespace scalelab::train
