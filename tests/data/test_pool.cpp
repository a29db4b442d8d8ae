#include "data/pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "membership/task.h"

namespace ganleaks::data {
namespace {

std::filesystem::path write_csv(const std::string& name, const std::string& text) {
  const auto file = std::filesystem::temp_directory_path() / ("ganleaks-test-pool-" + std::to_string(::getpid()) + name);
  std::ofstream(file) << text;
  return file;
}

TEST(Pool, TabularRowsAndLabelsFromACsv) {
  const auto file = write_csv("a.csv", "f0,f1,label\n1,0,2\n0,1,3\n1,1,2\n");
  const auto pool = Pool::load({.dataset = "tabular", .path = file.string()});
  EXPECT_EQ(pool.size(), 3);
  EXPECT_FALSE(pool.images());
  EXPECT_TRUE(pool.binary());
  EXPECT_THAT(std::vector<std::int64_t>(pool.labels().begin(), pool.labels().end()), testing::ElementsAre(2, 3, 2));
  const std::vector<std::int64_t> rows{2, 0};
  EXPECT_TRUE(torch::equal(pool.rows(rows), torch::tensor({{1.0f, 1.0f}, {1.0f, 0.0f}})));
  std::filesystem::remove(file);
}

TEST(Pool, RecordsOutsideTheUnitRangeAreRefusedNamingTheFile) {
  const auto file = write_csv("b.csv", "0.5,2.5\n0.1,0.2\n");
  try {
    Pool::load({.dataset = "tabular", .path = file.string()});
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr(file.string()));
    EXPECT_THAT(e.what(), testing::HasSubstr("[0, 1]"));
  }
  std::filesystem::remove(file);
  EXPECT_THROW(Pool::load({.dataset = "tabular", .path = "records.parquet"}), ConfigError);
}

// The audit's crafted canaries: inverted records are the source reflected in the data's range, noise is seeded;
// both are appended after the pool's records, which stay as they were.
TEST(Pool, CraftedRecordsAreAppendedInvertedOrSeededNoise) {
  ImageSet images{.count = 2, .rows = 2, .cols = 2, .pixels = {0, 255, 10, 20, 30, 40, 50, 60}, .labels = {3, 7}};
  const Pool pool(images, 2);
  using Kind = Pool::Crafted::Kind;
  const std::vector<Pool::Crafted> crafted{{.kind = Kind::kInverted, .source = 1}, {.kind = Kind::kNoise, .seed = 9},
                                           {.kind = Kind::kNoise, .seed = 9}, {.kind = Kind::kNoise, .seed = 10}};
  const auto more = pool.with_crafted(crafted);
  EXPECT_EQ(pool.size(), 2);
  ASSERT_EQ(more.size(), 6);
  EXPECT_THAT(std::vector<std::int64_t>(more.labels().begin(), more.labels().end()), testing::ElementsAre(3, 7, 7, 0, 0, 0));
  const std::vector<std::int64_t> all{0, 1, 2, 3, 4, 5};
  const auto rows = more.rows(all);
  EXPECT_TRUE(torch::equal(rows.narrow(0, 0, 2), pool.rows(std::vector<std::int64_t>{0, 1})));
  EXPECT_TRUE(torch::allclose(rows[2], -rows[1], 0, 1e-6));  // 255 − p on [-1, 1] pixels: −x
  EXPECT_TRUE(torch::equal(rows[3], rows[4]));                // the same seed, the same noise
  EXPECT_FALSE(torch::equal(rows[3], rows[5]));
  const auto file = write_csv("d.csv", "f0,f1\n1,0\n0,0\n");
  const auto records = Pool::load({.dataset = "tabular", .path = file.string()});
  const auto flipped = records.with_crafted(std::vector<Pool::Crafted>{{.kind = Kind::kInverted, .source = 0},
                                                                       {.kind = Kind::kNoise, .seed = 1}});
  EXPECT_TRUE(torch::equal(flipped.rows(std::vector<std::int64_t>{2}), torch::tensor({{0.0f, 1.0f}})));
  const auto noise = flipped.rows(std::vector<std::int64_t>{3});
  EXPECT_TRUE(torch::equal(noise, noise.round()));  // binary records get binary noise
  EXPECT_THROW(records.with_crafted(std::vector<Pool::Crafted>{{.kind = Kind::kInverted, .source = 2}}), std::invalid_argument);
  std::filesystem::remove(file);
}

// member_selection = "class" needs labels; with them, members come from member_classes only.
TEST(Pool, ClassMemberSelectionThroughTheRunnerSplits) {
  std::string text = "f0,label\n";
  for (int i = 0; i < 60; ++i) text += std::to_string(i % 2) + "," + std::to_string(i % 3) + "\n";
  const auto file = write_csv("c.csv", text);
  const auto pool = Pool::load({.dataset = "tabular", .path = file.string()});
  membership::Config config;
  config.data.member_selection = "class";
  config.data.member_classes = {1};
  config.data.reference_size = 10;
  config.sweep.train_sizes = {8};
  config.attack.max_queries = 8;
  const auto splits = membership::make_seed_splits(config, pool, 1);
  for (auto r : splits.train_pool) EXPECT_EQ(pool.labels()[static_cast<std::size_t>(r)], 1);
  for (auto r : splits.holdout) EXPECT_NE(pool.labels()[static_cast<std::size_t>(r)], 1);
  std::filesystem::remove(file);

  const auto unlabelled = write_csv("d.csv", "0\n1\n0\n");
  EXPECT_THROW(membership::make_seed_splits(config, Pool::load({.dataset = "tabular", .path = unlabelled.string()}), 1),
               ConfigError);
  std::filesystem::remove(unlabelled);
}

}  // namespace
}  // namespace ganleaks::data
