// The GPU table. Numbers are dense (non-sparse) datasheet peaks; sources listed per row.
#include "accounting/hardware.h"

#include "common/error.h"

namespace scalelab::accounting {

double GpuSpec::peak_tflops(Dtype d) const {
  double v = 0;
  switch (d) {
    case Dtype::kFp64:
      v = fp64;
      break;
    case Dtype::kFp32:
      v = fp32;
      break;
    case Dtype::kTf32:
      v = tf32;
      break;
    case Dtype::kBf16:
      v = bf16;
      break;
    case Dtype::kFp16:
      v = fp16;
      break;
    case Dtype::kFp8:
      v = fp8;
      break;
  }
  SCALELAB_CHECK(v > 0, "GPU {} has no {} tensor-core path", name, to_string(d));
  return v;
}

const std::vector<GpuSpec>& gpu_table() {
  // fp64 is the tensor-core FP64 figure; fp32 the plain (non-tensor) FP32 figure.
  static const std::vector<GpuSpec> table = {
      {"h100-sxm", "NVIDIA H100 SXM5 80GB", 81559, 3.35, 67, 67, 494.7, 989.4, 989.4, 1978.9,
       "NVIDIA H100 Tensor Core GPU datasheet (dense; sparsity figures are 2x)"},
      {"h100-pcie", "NVIDIA H100 PCIe 80GB", 81559, 2.0, 51, 51, 378, 756, 756, 1513,
       "NVIDIA H100 Tensor Core GPU datasheet (dense; sparsity figures are 2x)"},
      {"h200", "NVIDIA H200 SXM 141GB", 143771, 4.8, 67, 67, 494.7, 989.4, 989.4, 1978.9,
       "NVIDIA H200 Tensor Core GPU datasheet (dense; sparsity figures are 2x)"},
      {"a100-80gb", "NVIDIA A100 SXM4 80GB", 81920, 2.039, 19.5, 19.5, 156, 312, 312, 0,
       "NVIDIA A100 Tensor Core GPU datasheet (dense; sparsity figures are 2x)"},
      {"a100-40gb", "NVIDIA A100 SXM4 40GB", 40960, 1.555, 19.5, 19.5, 156, 312, 312, 0,
       "NVIDIA A100 Tensor Core GPU datasheet (dense; sparsity figures are 2x)"},
  };
  return table;
}

const GpuSpec& default_training_gpu() { return find_gpu("h100-sxm"); }

const GpuSpec& find_gpu(std::string_view name) {
  std::string known;
  for (const auto& g : gpu_table()) {
    if (g.name == name) return g;
    known += (known.empty() ? "" : ", ") + g.name;
  }
  SCALELAB_FAIL("unknown GPU '{}' (known: {})", name, known);
}

json::Json to_json(const GpuSpec& g) {
  return {{"name", g.name},
          {"description", g.description},
          {"memory_mib", g.memory_mib},
          {"memory_bandwidth_tb_s", g.memory_bandwidth_tbs},
          {"dense_peak_tflops",
           {{"fp64", g.fp64},
            {"fp32", g.fp32},
            {"tf32", g.tf32},
            {"bf16", g.bf16},
            {"fp16", g.fp16},
            {"fp8", g.fp8}}},
          {"source", g.source}};
}

}  // namespace scalelab::accounting
