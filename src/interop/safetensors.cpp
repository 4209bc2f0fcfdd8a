// The safetensors writer and reader (format in safetensors.h).
#include "interop/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "common/error.h"
#include "common/file_util.h"
#include "common/json.h"

namespace scalelab::interop {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this writer copies host bytes");

namespace {

struct DtypeName {
  TensorDtype dtype;
  std::string_view name;
  size_t bytes;
};
constexpr DtypeName kDtypes[] = {{TensorDtype::kF64, "F64", 8}, {TensorDtype::kF32, "F32", 4},
                                 {TensorDtype::kF16, "F16", 2}, {TensorDtype::kBF16, "BF16", 2},
                                 {TensorDtype::kI64, "I64", 8}, {TensorDtype::kI32, "I32", 4},
                                 {TensorDtype::kI16, "I16", 2}, {TensorDtype::kI8, "I8", 1},
                                 {TensorDtype::kU8, "U8", 1},   {TensorDtype::kBool, "BOOL", 1}};

// Largest header we accept (the reference implementation's limit is 100 MB).
constexpr uint64_t kMaxHeader = 100'000'000;

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

std::string_view to_string(TensorDtype d) {
  for (const auto& x : kDtypes)
    if (x.dtype == d) return x.name;
  return "?";
}

size_t dtype_bytes(TensorDtype d) {
  for (const auto& x : kDtypes)
    if (x.dtype == d) return x.bytes;
  return 0;
}

int64_t TensorEntry::elements() const { return product(shape); }

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json::Json header = json::Json::object();
  std::set<std::string> names;
  size_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    SCALELAB_CHECK(!t.name.empty() && t.name != "__metadata__", "{}: '{}' cannot name a tensor",
                   path, t.name);
    SCALELAB_CHECK(names.insert(t.name).second, "{}: tensor '{}' given twice", path, t.name);
    for (int64_t d : t.shape)
      SCALELAB_CHECK(d >= 0, "{}: tensor '{}' has a negative dimension", path, t.name);
    const auto need = static_cast<size_t>(product(t.shape)) * dtype_bytes(t.dtype);
    SCALELAB_CHECK(t.bytes == need, "{}: tensor '{}' has {} bytes but shape and {} need {}", path,
                   t.name, t.bytes, to_string(t.dtype), need);
    header[t.name] = {{"dtype", std::string(to_string(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes}}};
    offset += t.bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  out.reserve(8 + h.size() + offset);
  out += h;
  for (const TensorToWrite& t : tensors) out.append(static_cast<const char*>(t.data), t.bytes);
  write_text_file_atomic(path, out);
}

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  {
    std::ifstream in(path, std::ios::binary);
    SCALELAB_CHECK(in, "{}: cannot open", path);
    f.bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string& b = f.bytes_;
  SCALELAB_CHECK(b.size() >= 8, "{}: not a safetensors file ({} bytes, no header length)", path,
                 b.size());
  uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  SCALELAB_CHECK(n <= kMaxHeader, "{}: header length {} is implausible (not a safetensors file?)",
                 path, n);
  SCALELAB_CHECK(n <= b.size() - 8, "{}: truncated (the header says {} bytes, {} follow)", path, n,
                 b.size() - 8);
  f.data_start_ = 8 + n;
  const size_t data_size = b.size() - f.data_start_;
  json::Json header;
  try {
    header = json::Json::parse(b.begin() + 8, b.begin() + static_cast<std::ptrdiff_t>(8 + n));
  } catch (const std::exception&) {
    SCALELAB_FAIL("{}: the header is not valid JSON", path);
  }
  SCALELAB_CHECK(header.is_object(), "{}: the header is not a JSON object", path);
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      SCALELAB_CHECK(v.is_object(), "{}: __metadata__ is not an object", path);
      for (const auto& [k, s] : v.items()) {
        SCALELAB_CHECK(s.is_string(), "{}: __metadata__.{} is not a string", path, k);
        f.metadata_[k] = s.get<std::string>();
      }
      continue;
    }
    const std::string where = fmt::format("{}: tensor '{}'", path, name);
    SCALELAB_CHECK(v.is_object(), "{} is not an object", where);
    for (const auto& [k, unused] : v.items())
      SCALELAB_CHECK(k == "dtype" || k == "shape" || k == "data_offsets", "{}: unknown field '{}'",
                     where, k);
    TensorEntry e;
    e.name = name;
    SCALELAB_CHECK(v.contains("dtype") && v["dtype"].is_string(), "{}: dtype missing", where);
    const std::string dt = v["dtype"].get<std::string>();
    bool known = false;
    for (const auto& x : kDtypes)
      if (x.name == dt) {
        e.dtype = x.dtype;
        known = true;
      }
    SCALELAB_CHECK(known, "{}: unknown dtype '{}'", where, dt);
    SCALELAB_CHECK(v.contains("shape") && v["shape"].is_array(), "{}: shape missing", where);
    for (const auto& d : v["shape"]) {
      SCALELAB_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0,
                     "{}: shape holds something other than a non-negative integer", where);
      e.shape.push_back(d.get<int64_t>());
    }
    const json::Json& off = v.contains("data_offsets") ? v["data_offsets"] : json::Json();
    SCALELAB_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() &&
                       off[1].is_number_unsigned(),
                   "{}: data_offsets must be [begin, end]", where);
    e.begin = off[0].get<size_t>();
    e.end = off[1].get<size_t>();
    SCALELAB_CHECK(e.begin <= e.end && e.end <= data_size,
                   "{}: data_offsets [{}, {}] outside the {} data bytes (truncated?)", where,
                   e.begin, e.end, data_size);
    int64_t elements = 1;
    for (int64_t d : e.shape) {
      SCALELAB_CHECK(d == 0 || elements <= std::numeric_limits<int64_t>::max() / d,
                     "{}: shape overflows", where);
      elements *= d;
    }
    const auto need = static_cast<size_t>(elements) * dtype_bytes(e.dtype);
    SCALELAB_CHECK(e.end - e.begin == need,
                   "{}: data_offsets [{}, {}] hold {} bytes but its shape and {} need {}", where,
                   e.begin, e.end, e.end - e.begin, dt, need);
    f.tensors_.push_back(std::move(e));
  }
  std::sort(f.tensors_.begin(), f.tensors_.end(),
            [](const TensorEntry& a, const TensorEntry& c) { return a.begin < c.begin; });
  size_t covered = 0;
  for (const TensorEntry& e : f.tensors_) {
    SCALELAB_CHECK(e.begin == covered,
                   "{}: tensor '{}' starts at byte {} of the data, not {} (tensors must cover "
                   "the data without gaps or overlaps)",
                   path, e.name, e.begin, covered);
    covered = e.end;
  }
  SCALELAB_CHECK(covered == data_size, "{}: {} data bytes after the last tensor", path,
                 data_size - covered);
  return f;
}

bool SafetensorsFile::has(std::string_view name) const {
  return std::any_of(tensors_.begin(), tensors_.end(),
                     [&](const TensorEntry& e) { return e.name == name; });
}

const TensorEntry& SafetensorsFile::at(std::string_view name) const {
  for (const TensorEntry& e : tensors_)
    if (e.name == name) return e;
  SCALELAB_FAIL("{}: no tensor '{}'", path_, name);
}

}  // namespace scalelab::interop
