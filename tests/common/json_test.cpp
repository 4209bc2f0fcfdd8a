#include "common/json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "test_support.h"

namespace scalelab::json {
namespace {

using testing::error_of;

TEST(Json, ParseErrorNamesSourceAndPosition) {
  std::string msg = error_of([] { parse("{\"a\": 1,,}", "model.json"); });
  EXPECT_NE(msg.find("model.json: malformed JSON"), std::string::npos) << msg;
  EXPECT_NE(msg.find("column"), std::string::npos) << msg;
}

// Found by fuzzing (tests/fuzz, fuzz_json): a number too large for a double escaped as nlohmann's
// out_of_range exception instead of the one-line error naming the file.
TEST(Json, NumberOverflowIsAMalformedJsonError) {
  const std::string msg = error_of([] { parse("{\"targets\": [3.2e17, 1e1872]}", "sweep.json"); });
  EXPECT_NE(msg.find("sweep.json: malformed JSON: number overflow parsing '1e1872'"),
            std::string::npos)
      << msg;
}

TEST(Json, ReaderTypeChecksAndNamesField) {
  Json j = parse(R"({"d_model": 12.5, "name": "x", "flag": 1, "n": 1e3, "big": 5000000000})", "t");
  ObjectReader r(j, "model");
  int64_t d = 0;
  EXPECT_EQ(error_of([&] { r.get("d_model", d); }),
            "model.d_model: expected an integer, got number 12.5");
  int64_t n = 0;
  r.get("n", n);  // integral float accepted
  EXPECT_EQ(n, 1000);
  bool flag = false;
  EXPECT_EQ(error_of([&] { r.get("flag", flag); }),
            "model.flag: expected true or false, got number 1");
  int32_t small = 0;
  EXPECT_EQ(error_of([&] { r.get("big", small); }), "model.big: 5000000000 is out of range");
  double x = 0;
  EXPECT_EQ(error_of([&] { r.get("name", x); }), "model.name: expected a number, got string \"x\"");
}

TEST(Json, ReaderRejectsUnknownFieldsAndMissingRequired) {
  Json j = parse(R"({"a": 1, "typo": 2})", "t");
  ObjectReader r(j, "cfg");
  int a = 0, b = 7;
  r.get("a", a);
  r.get("b", b);  // absent: default kept
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 7);
  EXPECT_EQ(error_of([&] { r.finish(); }), "cfg.typo: unknown field (known fields: a, b)");
  EXPECT_EQ(error_of([&] { r.require("c", b); }), "cfg.c: missing required field");
}

TEST(Json, ReaderConvertsVectorsWithIndexedNames) {
  Json j = parse(R"({"budgets": [1e18, 2e18, "x"]})", "t");
  ObjectReader r(j, "sweep");
  std::vector<double> v;
  EXPECT_EQ(error_of([&] { r.get("budgets", v); }),
            "sweep.budgets[2]: expected a number, got string \"x\"");
}

TEST(Json, NonObjectIsAnError) {
  Json j = parse("[1,2]", "t");
  EXPECT_EQ(error_of([&] { ObjectReader r(j, "model.json"); }),
            "model.json: expected a JSON object, got an array");
}

TEST(Json, WriteIsAtomicAndRoundTrips) {
  auto dir = std::filesystem::temp_directory_path() / "scalelab_json_test";
  std::filesystem::remove_all(dir);
  auto path = dir / "sub" / "out.json";
  Json j{{"b", 2}, {"a", {1, 2, 3}}};
  write_file(path, j);
  EXPECT_EQ(read_file(path), j);
  // No temp files left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "sub")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_NE(error_of([&] { read_file(dir / "missing.json"); }).find("missing.json: no such file"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(FileUtil, UnwritableTargetNamesFile) {
  // A path below a regular file can never be created, even as root.
  auto file = std::filesystem::temp_directory_path() / "scalelab_plain_file";
  write_text_file_atomic(file, "x");
  std::string msg = error_of([&] { write_text_file_atomic(file / "x.json", "y"); });
  EXPECT_NE(msg.find("cannot create directory"), std::string::npos) << msg;
  msg = error_of([&] { ensure_writable_directory(file / "out"); });
  EXPECT_NE(msg.find("cannot create directory"), std::string::npos) << msg;
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace scalelab::json
