// The one dtype vocabulary of scalelab: the GPU table's peak FLOP/s (accounting), the training
// precision policies' compute dtype and the CUDA kernels' element type all name their numbers with
// it. Plain C++ with no other includes, so nvcc compiles it (src/model/cuda/kernels.h uses it).
#pragma once

#include <string_view>

namespace scalelab {

enum class Dtype { kFp64, kFp32, kTf32, kBf16, kFp16, kFp8 };

std::string_view to_string(Dtype d);    // "fp64" | "fp32" | "tf32" | "bf16" | "fp16" | "fp8"
Dtype parse_dtype(std::string_view s);  // throws "unknown dtype 'x' (expected fp64, …)"

}  // namespace scalelab
