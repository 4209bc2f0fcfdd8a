#include "common/mmap_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
#include "common/file_util.h"

namespace scalelab {
namespace {

TEST(MmapFile, MapsContentAndMoves) {
  auto path = std::filesystem::temp_directory_path() / "scalelab_mmap_test.txt";
  write_text_file_atomic(path, "hello, world");
  MmapFile f(path);
  EXPECT_EQ(f.view(), "hello, world");
  EXPECT_EQ(f.size(), 12u);
  MmapFile g = std::move(f);
  EXPECT_EQ(g.view(), "hello, world");
  EXPECT_TRUE(f.empty());  // NOLINT(bugprone-use-after-move): moved-from state is documented
  std::filesystem::remove(path);
}

TEST(MmapFile, EmptyFileIsEmptySpan) {
  auto path = std::filesystem::temp_directory_path() / "scalelab_mmap_empty.txt";
  write_text_file_atomic(path, "");
  MmapFile f(path);
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(f.view(), "");
  std::filesystem::remove(path);
}

TEST(MmapFile, ErrorsNameTheFile) {
  try {
    MmapFile f("/nonexistent/corpus.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/corpus.txt: cannot open: No such file or directory");
  }
  try {
    MmapFile f(std::filesystem::temp_directory_path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos);
  }
}

}  // namespace
}  // namespace scalelab
