// c10d data parallelism (see distributed.h).
#include "train/distributed.h"

#include <torch/version.h>

#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

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

  // Overlap state. Hooks run on autograd's threads (one per device), hence the mutex.
  std::mutex mu;
  std::vector<int64_t> bucket_size;  // parameters per bucket
  std::vector<int64_t> waiting;      // of the armed backward: parameters not yet in, per bucket
  std::vector<c10::intrusive_ptr<c10d::Work>> works;  // started all-reduces, in bucket order
  bool armed = false;
  std::string hook_error;  // the first failure to start an all-reduce inside a hook
  // The parameters' gradient accumulators, kept alive with their hooks.
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;

  [[noreturn]] void fail(const char* what, const std::string& why) const {
    SCALELAB_FAIL(
        "distributed: rank {} of {}: {} failed ({}): {} (another rank exited or stopped "
        "answering; its own error says why)",
        world.rank, world.size, what, backend, why);
  }
  // Gloo: blocks until done or the timeout; NCCL: makes the current stream wait for it. It throws
  // when the work failed and returns false when it was aborted.
  void wait(const char* what, const c10::intrusive_ptr<c10d::Work>& work) const {
    try {
      if (!work->wait(timeout)) throw std::runtime_error("the collective was aborted");
    } catch (const std::exception& e) {
      fail(what, first_line(e));
    }
  }
  // Starts one collective; a failure is a one-line error naming the rank.
  c10::intrusive_ptr<c10d::Work> start(
      const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& collective) const {
    try {
      return collective();
    } catch (const std::exception& e) {
      fail(what, first_line(e));
    }
  }
  // Runs one collective and waits for it.
  void run(const char* what,
           const std::function<c10::intrusive_ptr<c10d::Work>()>& collective) const {
    wait(what, start(what, collective));
  }
  // Waits for bucket b's all-reduce (work), then makes its sum the mean over the ranks.
  void average_bucket(size_t b, const c10::intrusive_ptr<c10d::Work>& work) {
    wait("gradient all-reduce", work);
    if (world.size > 1) buckets[b].div_(static_cast<double>(world.size));
  }
  c10::intrusive_ptr<c10d::Work> start_allreduce(torch::Tensor& bucket) {
    std::vector<torch::Tensor> one{bucket};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    return pg->allreduce(one, o);
  }
  // Starts the all-reduces of the leading buckets whose gradients are all in (under mu).
  void start_ready_buckets() {
    while (works.size() < buckets.size() && waiting[works.size()] == 0) {
      try {
        works.push_back(start_allreduce(buckets[works.size()]));
      } catch (const std::exception& e) {
        if (hook_error.empty()) hook_error = first_line(e);
        return;
      }
    }
  }
  void gradient_ready(size_t bucket) {
    std::lock_guard<std::mutex> lock(mu);
    if (!armed || waiting[bucket] == 0) return;
    if (--waiting[bucket] == 0) start_ready_buckets();
  }
};

namespace {

// Runs after autograd accumulated a parameter's gradient (into its bucket view).
class GradientReadyHook : public torch::autograd::FunctionPostHook {
 public:
  GradientReadyHook(DataParallel::Impl* impl, size_t bucket) : impl_(impl), bucket_(bucket) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    impl_->gradient_ready(bucket_);
    return outputs;
  }

 private:
  DataParallel::Impl* impl_;
  size_t bucket_;
};

}  // namespace

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

void DataParallel::attach_gradients(const std::vector<torch::Tensor>& params, int64_t bucket_bytes,
                                    bool overlap) {
  torch::NoGradGuard ng;
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  SCALELAB_CHECK(m.buckets.empty(), "distributed: the gradients are already attached");
  // In reverse parameter order (backward's), consecutive parameters of one dtype fill a bucket up
  // to bucket_bytes (a larger parameter has a bucket of its own).
  std::vector<torch::Tensor> rev(params.rbegin(), params.rend());
  size_t i = 0;
  while (i < rev.size()) {
    const auto opts = rev[i].options();
    const int64_t elem = static_cast<int64_t>(rev[i].element_size());
    size_t j = i;
    int64_t numel = 0;
    while (j < rev.size() && rev[j].scalar_type() == rev[i].scalar_type() &&
           rev[j].device() == rev[i].device() &&
           (j == i || (numel + rev[j].numel()) * elem <= bucket_bytes))
      numel += rev[j++].numel();
    torch::Tensor flat = torch::zeros({numel}, opts);
    const size_t bucket = m.buckets.size();
    int64_t off = 0;
    for (size_t k = i; k < j; ++k) {
      torch::Tensor p = rev[k];
      p.mutable_grad() = flat.narrow(0, off, p.numel()).view(p.sizes());
      off += p.numel();
      if (!overlap) continue;
      std::shared_ptr<torch::autograd::Node> acc = torch::autograd::impl::grad_accumulator(p);
      SCALELAB_CHECK(acc != nullptr, "distributed: a parameter does not require a gradient");
      acc->add_post_hook(std::make_unique<GradientReadyHook>(&m, bucket));
      m.accumulators.push_back(std::move(acc));
    }
    m.buckets.push_back(flat);
    m.bucket_size.push_back(static_cast<int64_t>(j - i));
    i = j;
  }
  m.waiting = m.bucket_size;
}

void DataParallel::average_gradients() {
  Impl& m = *impl_;
  for (size_t b = 0; b < m.buckets.size(); ++b)
    m.average_bucket(
        b, m.start("gradient all-reduce", [&] { return m.start_allreduce(m.buckets[b]); }));
}

void DataParallel::arm_overlap() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& m = *impl_;
  m.armed = !m.accumulators.empty();  // without hooks finish_gradients() all-reduces after backward
  m.waiting = m.bucket_size;
  m.works.clear();
  m.hook_error.clear();
}

void DataParallel::finish_gradients() {
  Impl& m = *impl_;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  bool armed = false;
  std::string error;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    armed = m.armed;
    if (armed) {
      m.armed = false;
      // Buckets with a parameter that received no gradient: started now, still in order.
      for (auto& w : m.waiting) w = 0;
      if (m.hook_error.empty()) m.start_ready_buckets();
      error = m.hook_error;
      works.swap(m.works);
    }
  }
  if (!armed) return average_gradients();
  if (!error.empty()) m.fail("gradient all-reduce", error);
  for (size_t b = 0; b < works.size(); ++b) m.average_bucket(b, works[b]);
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
