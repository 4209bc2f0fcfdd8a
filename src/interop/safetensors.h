// The safetensors format (Hugging Face's checkpoint format), written and read by our own code:
//   bytes 0–7   N, the header's length, unsigned 64-bit little-endian
//   bytes 8…    N bytes of UTF-8 JSON: {"NAME": {"dtype": "F32", "shape": [r, c],
//               "data_offsets": [begin, end]}, …, "__metadata__": {"key": "value"}} — padded with
//               spaces so the data starts 8-byte aligned
//   then        the tensors' raw little-endian bytes; offsets are relative to the data section's
//               start, and the tensors cover it exactly (no gaps, no overlaps)
// (https://github.com/huggingface/safetensors, "Format"). No LibTorch: callers pass raw buffers
// (model/ converts tensors). The reader validates everything above and names the file and the
// tensor or field at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace scalelab::interop {

enum class TensorDtype { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };
std::string_view to_string(TensorDtype d);  // the format's names: "F32", "BF16", …
size_t dtype_bytes(TensorDtype d);

struct TensorToWrite {
  std::string name;
  TensorDtype dtype = TensorDtype::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // little-endian, shape's product × dtype_bytes
  size_t bytes = 0;
};

// Writes atomically (a temporary file renamed over PATH): tensors in the given order. Throws on a
// duplicate or empty name, a byte count that does not match the shape, or "__metadata__" as a name.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

struct TensorEntry {
  std::string name;
  TensorDtype dtype = TensorDtype::kF32;
  std::vector<int64_t> shape;
  size_t begin = 0, end = 0;  // byte offsets in the data section
  int64_t elements() const;
};

class SafetensorsFile {
 public:
  // Reads and validates the whole file.
  static SafetensorsFile read(const std::string& path);
  const std::string& path() const { return path_; }
  // In file order (by offset).
  const std::vector<TensorEntry>& tensors() const { return tensors_; }
  bool has(std::string_view name) const;
  const TensorEntry& at(std::string_view name) const;  // throws naming the file and the tensor
  const char* data(const TensorEntry& e) const { return bytes_.data() + data_start_ + e.begin; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::string path_, bytes_;
  size_t data_start_ = 0;
  std::vector<TensorEntry> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace scalelab::interop
