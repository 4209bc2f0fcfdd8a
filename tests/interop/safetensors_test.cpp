#include "interop/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/file_util.h"
#include "common/json.h"
#include "test_support.h"

namespace scalelab::interop {
namespace {

using testing::error_of;

// A fresh directory, removed afterwards.
struct Dir {
  std::string d = testing::fresh_dir("safetensors").string();
  ~Dir() { std::filesystem::remove_all(d); }
};

// Writes raw bytes: an 8-byte header length, the header, then `data`.
void write_raw(const std::string& path, const std::string& header, const std::string& data,
               uint64_t claimed = 0) {
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = claimed > 0 ? claimed : header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << data;
}

TEST(Safetensors, RoundTripIsBitExactAndTheHeaderIsTheFormats) {
  Dir dir;
  const std::string path = dir.d + "/m.safetensors";
  const std::vector<float> w{1.5f, -2.25f, 3.0e-8f, 0.0f, -0.0f, 1e30f};
  const std::vector<uint16_t> bf{0x3f80, 0xbf80, 0x7f80};  // 1, −1, +inf in bf16
  const std::vector<int64_t> ids{0, 50256};
  write_safetensors(path,
                    {{"model.embed_tokens.weight", TensorDtype::kF32, {2, 3}, w.data(), 24},
                     {"lm_head.weight", TensorDtype::kBF16, {3}, bf.data(), 6},
                     {"ids", TensorDtype::kI64, {2}, ids.data(), 16}},
                    {{"format", "pt"}});
  // The layout: little-endian header length, JSON with the offsets, the data 8-byte aligned.
  const std::string raw = read_text_file(path);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(raw.size(), 8 + n + 24 + 6 + 16);
  const json::Json h = json::parse(raw.substr(8, n), "header");
  EXPECT_EQ(h["model.embed_tokens.weight"]["dtype"], "F32");
  EXPECT_EQ(h["model.embed_tokens.weight"]["shape"], json::Json({2, 3}));
  EXPECT_EQ(h["model.embed_tokens.weight"]["data_offsets"], json::Json({0, 24}));
  EXPECT_EQ(h["lm_head.weight"]["data_offsets"], json::Json({24, 30}));
  EXPECT_EQ(h["ids"]["data_offsets"], json::Json({30, 46}));
  EXPECT_EQ(h["__metadata__"]["format"], "pt");
  // Read back: the same bytes.
  const SafetensorsFile f = SafetensorsFile::read(path);
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "model.embed_tokens.weight");  // in file order
  const TensorEntry& e = f.at("model.embed_tokens.weight");
  EXPECT_EQ(e.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(f.data(e), w.data(), 24), 0);
  EXPECT_EQ(std::memcmp(f.data(f.at("lm_head.weight")), bf.data(), 6), 0);
  EXPECT_EQ(std::memcmp(f.data(f.at("ids")), ids.data(), 16), 0);
  EXPECT_EQ(f.at("lm_head.weight").dtype, TensorDtype::kBF16);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(error_of([&] { f.at("nope"); }), path + ": no tensor 'nope'");
}

TEST(Safetensors, MalformedFilesAreOneLineErrorsNamingTheFileAndTensor) {
  Dir dir;
  const std::string p = dir.d + "/bad.safetensors";
  const std::string w(8, '\1');
  write_raw(p, "", "", 0);
  std::filesystem::resize_file(p, 5);
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }),
            p + ": not a safetensors file (5 bytes, no header length)");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", w, 4096);
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }),
            p + ": truncated (the header says 4096 bytes, 62 follow)");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],)", "");
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }), p + ": the header is not valid JSON");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", w.substr(0, 6));
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }),
            p + ": tensor 'a': data_offsets [0, 8] outside the 6 data bytes (truncated?)");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", w);
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }),
            p + ": tensor 'a': data_offsets [0, 8] hold 8 bytes but its shape and F32 need 12");
  write_raw(p, R"({"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}})", w);
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }), p + ": tensor 'a': unknown dtype 'F31'");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2]}})", w);
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }),
            p + ": tensor 'a': data_offsets must be [begin, end]");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", w);
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }),
            p + ": tensor 'a' starts at byte 4 of the data, not 0 (tensors must cover the data "
                "without gaps or overlaps)");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", w);
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }),
            p + ": 4 data bytes after the last tensor");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", w);
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(p); }), p + ": tensor 'a': unknown field 'x'");
  EXPECT_EQ(error_of([&] { SafetensorsFile::read(dir.d + "/missing"); }),
            dir.d + "/missing: cannot open");
  // The writer refuses what it cannot write faithfully.
  const float x[2] = {1, 2};
  EXPECT_EQ(error_of([&] {
              write_safetensors(p, {{"a", TensorDtype::kF32, {3}, x, 8}});
            }),
            p + ": tensor 'a' has 8 bytes but shape and F32 need 12");
  EXPECT_EQ(error_of([&] {
              write_safetensors(
                  p, {{"a", TensorDtype::kF32, {2}, x, 8}, {"a", TensorDtype::kF32, {2}, x, 8}});
            }),
            p + ": tensor 'a' given twice");
}

}  // namespace
}  // namespace scalelab::interop
