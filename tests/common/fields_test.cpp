// Field tables: JSON round trip in table order, strict reading, choices and ranges with the field
// named, nested tables, the markdown reference.
#include "common/fields.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace scalelab::fields {

enum class Colour { kRed, kGreen };
template <>
struct EnumNames<Colour> {
  static constexpr std::array<std::pair<Colour, std::string_view>, 2> kNames{
      {{Colour::kRed, "red"}, {Colour::kGreen, "green"}}};
};

namespace {

using testing::error_of;

struct Inner {
  int64_t k = 3;
};
struct Outer {
  double lr = 1e-3;
  std::vector<double> budgets;
  Colour colour = Colour::kRed;
  std::optional<Colour> maybe;
  bool flag = false;
  Inner inner;
};

const Table<Inner>& inner_fields() {
  static const auto t = Table<Inner>().add("k", &Inner::k, "K", Range::at_least(1));
  return t;
}
const Table<Outer>& outer_fields() {
  static const auto t = Table<Outer>()
                            .add("lr", &Outer::lr, "Learning rate", Range::positive())
                            .add("budgets", &Outer::budgets, "Budgets", Range::positive())
                            .add("colour", &Outer::colour, "Colour")
                            .add("maybe", &Outer::maybe, "Maybe a colour")
                            .add("flag", &Outer::flag, "A flag", Opt::named("--the-flag"))
                            .nest("inner", &Outer::inner, inner_fields(), "Nested", {"k"});
  return t;
}

TEST(Fields, JsonRoundTripKeepsTableOrderAndValues) {
  Outer o;
  o.lr = 0.5;
  o.budgets = {1, 2};
  o.colour = Colour::kGreen;
  o.maybe = Colour::kRed;
  o.inner.k = 7;
  const json::Json j = outer_fields().to_json(o);
  EXPECT_EQ(j.dump(),
            R"({"lr":0.5,"budgets":[1.0,2.0],"colour":"green","maybe":"red","flag":false,)"
            R"("inner":{"k":7}})");
  const Outer back = outer_fields().from_json(j, "o");
  EXPECT_EQ(outer_fields().to_json(back), j);
  EXPECT_EQ(outer_fields().to_json(Outer{})["maybe"], "auto");
}

TEST(Fields, ReadingIsStrictAndNamesTheField) {
  const auto& t = outer_fields();
  EXPECT_EQ(error_of([&] {
              t.from_json(json::Json{{"lrr", 1}}, "f.json");
            }),
            "f.json.lrr: unknown field (known fields: lr, budgets, colour, maybe, flag, inner)");
  EXPECT_EQ(error_of([&] {
              t.from_json(json::Json{{"colour", "blue"}}, "f.json");
            }),
            "f.json.colour: expected red or green, got 'blue'");
  EXPECT_EQ(error_of([&] {
              t.from_json(json::Json{{"maybe", "blue"}}, "f.json");
            }),
            "f.json.maybe: expected auto, red or green, got 'blue'");
  EXPECT_EQ(error_of([&] {
              t.from_json(json::Json{{"lr", -1}}, "f.json");
            }),
            "f.json.lr: must be positive (got -1)");
  EXPECT_EQ(error_of([&] {
              t.from_json(json::Json{{"budgets", {1, 0}}}, "f.json");
            }),
            "f.json.budgets[1]: must be positive (got 0)");
  EXPECT_EQ(error_of([&] {
              t.from_json(json::Json{{"inner", {{"k", 0}}}}, "f.json");
            }),
            "f.json.inner.k: must be >= 1 (got 0)");
  EXPECT_EQ(error_of([&] {
              t.from_json(json::Json{{"lr", "fast"}}, "f.json");
            }),
            "f.json.lr: expected a number, got string \"fast\"");
  EXPECT_EQ(error_of([&] { t.from_json(json::Json::array(), "f.json"); }),
            "f.json: expected an object, got an array");
}

TEST(Fields, CheckCatchesValuesSetInCodeIncludingNaN) {
  Outer o;
  o.lr = std::nan("");
  EXPECT_EQ(error_of([&] { outer_fields().check(o); }), "lr: must be positive (got nan)");
  o.lr = 1;
  o.budgets = {3, -1};
  EXPECT_EQ(error_of([&] { outer_fields().check(o, "cfg"); }),
            "cfg.budgets[1]: must be positive (got -1)");
}

TEST(Fields, FlagsAndNestedFields) {
  const auto& t = outer_fields();
  EXPECT_EQ(t.find("lr")->flag, "--lr");
  EXPECT_EQ(t.find("flag")->flag, "--the-flag");
  const auto kids = t.find("inner")->children();
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(kids[0].name, "inner.k");
  EXPECT_EQ(kids[0].flag, "--k");
  Outer o;
  kids[0].set(o, 9, "--k");
  EXPECT_EQ(o.inner.k, 9);
  EXPECT_EQ(error_of([&] { kids[0].set(o, 0, "--k"); }), "--k: must be >= 1 (got 0)");
}

TEST(Fields, MarkdownListsEveryFieldWithDefaultAndAllowedValues) {
  const std::string md = markdown(outer_fields());
  EXPECT_NE(md.find("| `lr` | `--lr` | number | `0.001` | positive | Learning rate |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `colour` | `--colour` | choice | `red` | red or green | Colour |"),
            std::string::npos);
  EXPECT_NE(md.find("| `inner.k` | `--k` | integer | `3` | >= 1 | K |"), std::string::npos);
}

TEST(Fields, EnumNamesParseAndPrint) {
  EXPECT_EQ(enum_name(Colour::kGreen), "green");
  EXPECT_EQ(parse_enum<Colour>("red", "c"), Colour::kRed);
  EXPECT_EQ(error_of([] { parse_enum<Colour>("x", "c"); }), "c: expected red or green, got 'x'");
  EXPECT_EQ(join_choices({"a"}), "a");
  EXPECT_EQ(join_choices({"a", "b", "c"}), "a, b or c");
}

}  // namespace
}  // namespace scalelab::fields
