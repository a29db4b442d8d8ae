// The config machinery on a section planted here: every key declared once (core/config.h) is read, validated,
// written back and documented from that one declaration, and a struct member without a declaration is found.
#include "core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"

namespace ganleaks {
namespace {

using ::testing::HasSubstr;

struct Planted {
  static constexpr std::string_view kSection = "planted";
  static constexpr std::array<std::string_view, 2> kColours{"red", "blue"};
  static constexpr std::array<std::int64_t, 2> kSides{28, 32};
  static constexpr std::array<std::string_view, 3> kNames{"a", "b", "c"};
  std::int64_t count = 3;
  int side = 32;
  double rate = 0.5;
  std::string colour = "red";
  std::vector<std::uint64_t> seeds{0};
  std::vector<std::string> names{"a"};
  bool flag = false;

  void visit(KeyVisitor& v) {
    v.integer("count", count, {1, 1'000'000'000}, "how many");
    v.integer("side", side, kSides, "image side");
    v.real("rate", rate, kOpenUnit, "a rate");
    v.choice("colour", colour, kColours, "its colour");
    v.integers("seeds", seeds, {0, kMaxSeed}, "seeds");
    v.one_or_more("names", names, kNames, "names");
    v.boolean("flag", flag, "a flag");
  }
  bool operator==(const Planted&) const = default;
};

// The same with a member that visit() forgets.
struct Forgetful {
  static constexpr std::string_view kSection = "forgetful";
  int declared = 1;
  int forgotten = 2;
  void visit(KeyVisitor& v) { v.integer("declared", declared, {0, 9}, "declared"); }
};

struct PlantedConfig {
  Planted planted;
  std::string source;
  void visit(KeyVisitor& v) { v.section(planted); }
};

PlantedConfig parse(std::string_view text) {
  PlantedConfig c{.source = "planted.toml"};
  read_config(text, c.source, [&](KeyVisitor& v) { c.visit(v); });
  return c;
}

TEST(ConfigKeys, ReadValidateAndWriteBack) {
  const auto c = parse("[planted]\ncount = 7\nside = 28\nrate = 0.25\ncolour = \"blue\"\nseeds = [5, 2]\nnames = \"b\"\n");
  EXPECT_EQ(c.planted.count, 7);
  EXPECT_EQ(c.planted.side, 28);
  EXPECT_EQ(c.planted.seeds, (std::vector<std::uint64_t>{5, 2}));
  EXPECT_EQ(c.planted.names, std::vector<std::string>{"b"});
  const auto text = to_toml(c);
  EXPECT_EQ(text, "# ganleaks config, fully resolved from planted.toml\n\n[planted]\ncount = 7\nside = 28\nrate = 0.25\n"
                  "colour = \"blue\"\nseeds = [5, 2]\nnames = \"b\"\nflag = false\n");
  EXPECT_EQ(parse(text).planted, c.planted);
  EXPECT_EQ(section_toml(c, "planted"), text.substr(text.find('\n') + 1));
  EXPECT_EQ(section_toml(c, "other"), "");
}

TEST(ConfigKeys, ErrorsNameTheKeyAndWhatIsAllowed) {
  const auto error = [](std::string_view text) {
    try {
      parse(text);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("[planted]\ncount = 0\n"),
            "planted.toml: planted.count = 0 is out of range; expected an integer in [1, 1000000000]");
  EXPECT_THAT(error("[planted]\nside = 30\n"), HasSubstr("planted.side = 30 is not allowed; expected one of: 28, 32"));
  EXPECT_THAT(error("[planted]\nrate = 1\n"), HasSubstr("planted.rate = 1.0 is out of range; expected a float in (0, 1)"));
  EXPECT_THAT(error("[planted]\nnames = [\"a\", \"a\"]\n"), HasSubstr("planted.names contains \"a\" twice"));
  EXPECT_THAT(error("[planted]\nseeds = []\n"), HasSubstr("planted.seeds = [] is empty"));
  EXPECT_THAT(error("[planted]\nnope = 1\n"), HasSubstr("unknown key 'planted.nope'; valid keys in [planted]: count, side"));
  EXPECT_THAT(error("[other]\n"), HasSubstr("unknown section [other]; valid sections: planted"));
  PlantedConfig c;
  EXPECT_THROW(read_config("[other]\n", "x", [&](KeyVisitor& v) { c.visit(v); },
                           [](std::string_view s) { return s == "other" ? "section [other] is another task's" : ""; }),
               ConfigError);
}

TEST(ConfigKeys, TableComesFromTheDeclaration) {
  PlantedConfig c;
  const auto table = key_table_markdown([&](KeyVisitor& v) { c.visit(v); }, "planted");
  EXPECT_THAT(table, HasSubstr("| key | type | default | allowed | meaning |\n"));
  EXPECT_THAT(table, HasSubstr("| `count` | integer | `3` | [1, 10^9] | how many |\n"));
  EXPECT_THAT(table, HasSubstr("| `side` | integer | `32` | `28`, `32` | image side |\n"));
  EXPECT_THAT(table, HasSubstr("| `rate` | float | `0.5` | (0, 1) | a rate |\n"));
  EXPECT_THAT(table, HasSubstr("| `seeds` | array of integers | `[0]` | non-empty, unique, each in [0, 2^53] | seeds |\n"));
  EXPECT_THAT(table, HasSubstr("| `names` | string or array of strings | `\"a\"` | one, or an array of unique, from `a`, "
                               "`b`, `c` | names |\n"));
  EXPECT_EQ(section_names([&](KeyVisitor& v) { c.visit(v); }), std::vector<std::string>{"planted"});
  EXPECT_EQ(declared_keys([&](KeyVisitor& v) { c.visit(v); }).size(), 7u);
}

// A member added to a section's struct without a key declaration is found.
TEST(ConfigKeys, EveryMemberIsDeclared) {
  PlantedConfig c;
  EXPECT_TRUE(undeclared_members([&](KeyVisitor& v) { c.visit(v); }).empty());
  Forgetful f;
  EXPECT_EQ(undeclared_members([&](KeyVisitor& v) { v.section(f); }),
            std::vector<std::string>{"[forgetful]: 2 members, 1 declared keys"});
}

TEST(ConfigKeys, PeekAndReadFile) {
  EXPECT_EQ(peek_text("[experiment]\ntask = \"x\"\n", "s", "experiment", "task", "d"), "x");
  EXPECT_EQ(peek_text("", "s", "experiment", "task", "d"), "d");
  EXPECT_THROW(peek_text("[experiment]\ntask = 3\n", "s", "experiment", "task", "d"), ConfigError);
  EXPECT_THROW(read_config_file("/nonexistent/ganleaks.toml"), ConfigError);
}

}  // namespace
}  // namespace ganleaks
