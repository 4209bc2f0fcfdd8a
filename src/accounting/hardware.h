// Dense peak throughput per dtype and memory of the GPUs users train on. Dense figures only: the
// vendor datasheets' "with sparsity" numbers (2:4 structured sparsity) are twice these and are
// never used. Memory capacity is what nvidia-smi reports as total (MiB), i.e. what a process can
// address before the driver's reservations; it is printed in GiB (2^30 bytes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/dtype.h"
#include "common/json.h"

namespace scalelab::accounting {

// The GPU table's dtypes are scalelab's one vocabulary (common/dtype.h).
using scalelab::Dtype;
using scalelab::parse_dtype;
using scalelab::to_string;

struct GpuSpec {
  std::string name;                 // "h100-sxm"
  std::string description;          // "NVIDIA H100 SXM5 80GB"
  double memory_mib = 0;            // as nvidia-smi reports the total
  double memory_bandwidth_tbs = 0;  // TB/s (10^12 bytes/s), datasheet
  // Dense peak TFLOP/s (10^12), datasheet; 0 where the chip has no such path.
  double fp64 = 0, fp32 = 0, tf32 = 0, bf16 = 0, fp16 = 0, fp8 = 0;
  std::string source;  // datasheet the figures come from

  double peak_tflops(Dtype d) const;  // throws when the GPU has no such path (fp8 on A100)
  double memory_bytes() const { return memory_mib * 1024.0 * 1024.0; }
};

const std::vector<GpuSpec>& gpu_table();
const GpuSpec& find_gpu(std::string_view name);  // "unknown GPU 'x' (known: …)"
// The GPU that MFU and a sweep's time estimate assume on CUDA when none is named: the H100 SXM
// (the H200 of our GPU machine has the same dense peaks). The one place this choice is made.
const GpuSpec& default_training_gpu();

json::Json to_json(const GpuSpec& g);

}  // namespace scalelab::accounting
