// The BPE trainer's two hash tables against std::unordered_map under random operations.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/pair_map.h"
#include "tokenizer/pretoken_counts.h"

namespace scalelab::tokenizer {
namespace {

TEST(PairMap, MatchesUnorderedMapUnderInsertsAndErasures) {
  std::mt19937_64 rng(7);
  PairMap<int64_t> m;
  std::unordered_map<uint64_t, int64_t> ref;
  // Few distinct keys so that erasures hit long probe runs (the backward shift's cases).
  std::uniform_int_distribution<uint32_t> id(0, 3000);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t k = (uint64_t{id(rng)} << 32) | id(rng) % 7;
    if (rng() % 3 == 0) {
      m.erase(k);
      ref.erase(k);
    } else {
      const int64_t d = static_cast<int64_t>(rng() % 5) + 1;
      auto [v, inserted] = m.insert(k);
      EXPECT_EQ(inserted, ref.count(k) == 0);
      v += d;
      ref[k] += d;
    }
    if (i % 20000 == 0) {
      for (const auto& [rk, rv] : ref) {
        const int64_t* got = m.find(rk);
        ASSERT_NE(got, nullptr);
        EXPECT_EQ(*got, rv);
      }
    }
  }
  EXPECT_EQ(m.size(), ref.size());
  size_t seen = 0;
  m.for_each([&](uint64_t k, int64_t& v) {
    ++seen;
    ASSERT_EQ(ref.count(k), 1u);
    EXPECT_EQ(ref.at(k), v);
  });
  EXPECT_EQ(seen, ref.size());
  EXPECT_EQ(m.find(uint64_t{5000} << 32), nullptr);
  m.erase(uint64_t{5000} << 32);  // absent: nothing happens
  EXPECT_EQ(m.size(), ref.size());
}

TEST(PairMap, HoldsMovableValues) {
  PairMap<std::vector<uint32_t>> m;
  for (uint32_t w = 0; w < 5000; ++w) m[w % 97].push_back(w);  // grows through rehashes
  EXPECT_EQ(m.size(), 97u);
  EXPECT_EQ(m[3].size(), 52u);
  EXPECT_EQ(m[3][1], 100u);
  m.erase(3);
  EXPECT_EQ(m.find(3), nullptr);
  EXPECT_EQ(m[4].front(), 4u);
}

TEST(PretokenCounts, CountsLikeUnorderedMapAcrossGrowthAndAbsorb) {
  std::mt19937_64 rng(11);
  PretokenCounts a, b;
  std::unordered_map<std::string, int64_t> ref;
  for (int i = 0; i < 100000; ++i) {
    // Lengths 0..20 cover the 8-byte hash loop and its tail; some long strings too.
    std::string s(rng() % 21, 'x');
    for (auto& c : s) c = static_cast<char>('a' + rng() % 3);
    if (i % 1000 == 0) s = std::string(300 + rng() % 50, 'q');
    (i % 2 ? a : b).add(s);
    ++ref[s];
  }
  a.absorb(b);
  EXPECT_EQ(a.size(), ref.size());
  int64_t total = 0;
  a.for_each([&](std::string_view s, int64_t n) {
    ASSERT_EQ(ref.count(std::string(s)), 1u) << s;
    EXPECT_EQ(ref.at(std::string(s)), n) << s;
    total += n;
  });
  EXPECT_EQ(total, 100000);
  a.clear();
  EXPECT_TRUE(a.empty());
}

TEST(PretokenCounts, DistinguishesStringsThatDifferOnlyInLengthOrNulBytes) {
  PretokenCounts c;
  c.add(std::string_view("ab\0", 3));
  c.add("ab");
  c.add("ab");
  c.add(std::string_view("ab\0\0", 4));
  std::unordered_map<std::string, int64_t> got;
  c.for_each([&](std::string_view s, int64_t n) { got[std::string(s)] = n; });
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(got["ab"], 2);
  EXPECT_EQ(got[std::string("ab\0", 3)], 1);
}

}  // namespace
}  // namespace scalelab::tokenizer
