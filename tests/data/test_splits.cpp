#include "data/splits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.h"

namespace ganleaks::data {
namespace {
using Index = std::vector<std::int64_t>;

constexpr SplitSizes kSizes{.pool = 1000, .reference = 200, .holdout = 100, .max_train = 400};

bool disjoint(const Index& a, const Index& b) {
  const std::set<std::int64_t> sa(a.begin(), a.end());
  return std::none_of(b.begin(), b.end(), [&](std::int64_t i) { return sa.count(i) > 0; });
}

bool distinct_in_pool(const Index& a, std::int64_t pool) {
  const std::set<std::int64_t> s(a.begin(), a.end());
  return s.size() == a.size() && (a.empty() || (*s.begin() >= 0 && *s.rbegin() < pool));
}

bool subset(const Index& a, const Index& of) {
  const std::set<std::int64_t> s(of.begin(), of.end());
  return std::all_of(a.begin(), a.end(), [&](std::int64_t i) { return s.count(i) > 0; });
}

TEST(Splits, SizesDisjointAndInPool) {
  const SeedSplits s = make_splits(kSizes, 1);
  EXPECT_EQ(s.reference.size(), 200u);
  EXPECT_EQ(s.holdout.size(), 100u);
  EXPECT_EQ(s.train_pool.size(), 400u);
  for (const Index* set : {&s.reference, &s.holdout, &s.train_pool}) EXPECT_TRUE(distinct_in_pool(*set, 1000));
  EXPECT_TRUE(disjoint(s.reference, s.holdout));
  EXPECT_TRUE(disjoint(s.reference, s.train_pool));
  EXPECT_TRUE(disjoint(s.holdout, s.train_pool));
}

TEST(Splits, ExactlyFullPoolIsAPermutation) {
  const SeedSplits s = make_splits({.pool = 50, .reference = 10, .holdout = 15, .max_train = 25}, 3);
  Index all = s.reference;
  all.insert(all.end(), s.holdout.begin(), s.holdout.end());
  all.insert(all.end(), s.train_pool.begin(), s.train_pool.end());
  std::sort(all.begin(), all.end());
  Index expected(50);
  for (std::int64_t i = 0; i < 50; ++i) expected[i] = i;
  EXPECT_EQ(all, expected);
}

TEST(Splits, DeterministicPerSeed) {
  const SeedSplits a = make_splits(kSizes, 42), b = make_splits(kSizes, 42), c = make_splits(kSizes, 43);
  EXPECT_EQ(a.reference, b.reference);
  EXPECT_EQ(a.holdout, b.holdout);
  EXPECT_EQ(a.train_pool, b.train_pool);
  EXPECT_NE(a.reference, c.reference);
  EXPECT_NE(a.holdout, c.holdout);
  EXPECT_NE(a.train_pool, c.train_pool);
}

TEST(Splits, TrainingSetsAreNestedPrefixes) {
  const SeedSplits s = make_splits(kSizes, 5);
  const Index small = training_set(s, 100), large = training_set(s, 400);
  EXPECT_EQ(small.size(), 100u);
  EXPECT_EQ(large, s.train_pool);
  EXPECT_TRUE(std::equal(small.begin(), small.end(), large.begin()));
  EXPECT_TRUE(training_set(s, 0).empty());
  EXPECT_THROW(training_set(s, 401), std::invalid_argument);
  EXPECT_THROW(training_set(s, -1), std::invalid_argument);
}

TEST(Splits, QuerySetMembersAndNonMembers) {
  const SeedSplits s = make_splits(kSizes, 9);
  const std::int64_t n = 150, m = 60;
  const QuerySet q = make_query_set(s, n, m, 9);
  ASSERT_EQ(q.sample_index.size(), 120u);
  ASSERT_EQ(q.is_member.size(), 120u);
  const Index members(q.sample_index.begin(), q.sample_index.begin() + m);
  const Index non_members(q.sample_index.begin() + m, q.sample_index.end());
  EXPECT_TRUE(std::all_of(q.is_member.begin(), q.is_member.begin() + m, [](auto v) { return v == 1; }));
  EXPECT_TRUE(std::all_of(q.is_member.begin() + m, q.is_member.end(), [](auto v) { return v == 0; }));
  EXPECT_TRUE(subset(members, training_set(s, n)));
  EXPECT_EQ(non_members, Index(s.holdout.begin(), s.holdout.begin() + m));
  EXPECT_TRUE(distinct_in_pool(q.sample_index, kSizes.pool));
  // A random draw, not just the first m of the training set.
  EXPECT_NE(members, Index(s.train_pool.begin(), s.train_pool.begin() + m));
  EXPECT_EQ(make_query_set(s, n, m, 9).sample_index, q.sample_index);
  EXPECT_NE(make_query_set(s, n + 1, m, 9).sample_index, q.sample_index);
}

TEST(Splits, QuerySetAllMembersWhenMEqualsN) {
  const SeedSplits s = make_splits(kSizes, 2);
  const QuerySet q = make_query_set(s, 100, 100, 2);
  Index members(q.sample_index.begin(), q.sample_index.begin() + 100), train = training_set(s, 100);
  std::sort(members.begin(), members.end());
  std::sort(train.begin(), train.end());
  EXPECT_EQ(members, train);
}

TEST(Splits, QuerySetRejectsBadM) {
  const SeedSplits s = make_splits(kSizes, 2);
  EXPECT_THROW(make_query_set(s, 50, 51, 2), std::invalid_argument);    // m > n
  EXPECT_THROW(make_query_set(s, 400, 101, 2), std::invalid_argument);  // m > holdout
  EXPECT_THROW(make_query_set(s, 50, -1, 2), std::invalid_argument);
}

TEST(Splits, TooSmallPoolThrowsNamingKeys) {
  try {
    make_splits({.pool = 100, .reference = 50, .holdout = 30, .max_train = 21}, 1);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    for (const char* part : {"100", "50", "30", "21", "data.reference_size", "attack.max_queries", "sweep.train_sizes"}) {
      EXPECT_NE(msg.find(part), std::string::npos) << part << " missing from: " << msg;
    }
  }
  EXPECT_THROW(make_splits({.pool = 100, .reference = -1, .holdout = 0, .max_train = 0}, 1), ConfigError);
  EXPECT_NO_THROW(make_splits({.pool = 100, .reference = 50, .holdout = 30, .max_train = 20}, 1));
}

// Pins the algorithm: if these change, every recorded experiment's splits change with them.
TEST(Splits, GoldenSeed7) {
  const SeedSplits s = make_splits({.pool = 100, .reference = 10, .holdout = 10, .max_train = 50}, 7);
  EXPECT_EQ(Index(s.reference.begin(), s.reference.begin() + 5), (Index{98, 89, 6, 44, 23}));
  EXPECT_EQ(Index(s.holdout.begin(), s.holdout.begin() + 5), (Index{30, 56, 69, 16, 49}));
  EXPECT_EQ(Index(s.train_pool.begin(), s.train_pool.begin() + 5), (Index{43, 15, 54, 51, 20}));
  const QuerySet q = make_query_set(s, 20, 5, 7);
  EXPECT_EQ(Index(q.sample_index.begin(), q.sample_index.begin() + 5), (Index{20, 77, 78, 54, 43}));
}

}  // namespace
}  // namespace ganleaks::data

namespace ganleaks::data {
namespace {

// member_selection = "class": members from the chosen classes only, non-members from the others; the
// reference set is the same cut as with random selection.
TEST(Splits, ClassSelectionSeparatesMembersByLabel) {
  std::vector<std::int64_t> labels(200);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 10);
  const SplitSizes sizes{.pool = 200, .reference = 20, .holdout = 30, .max_train = 50};
  const SeedSplits s = make_splits(sizes, 4, {.labels = labels, .classes = {0, 1, 2, 3, 4}});
  EXPECT_EQ(s.reference, make_splits(sizes, 4).reference);
  ASSERT_EQ(s.train_pool.size(), 50u);
  ASSERT_EQ(s.holdout.size(), 30u);
  for (auto r : s.train_pool) EXPECT_LT(labels[r], 5) << r;
  for (auto r : s.holdout) EXPECT_GE(labels[r], 5) << r;
  std::set<std::int64_t> all(s.reference.begin(), s.reference.end());
  all.insert(s.holdout.begin(), s.holdout.end());
  all.insert(s.train_pool.begin(), s.train_pool.end());
  EXPECT_EQ(all.size(), 100u);  // disjoint
}

TEST(Splits, ClassSelectionWithTooFewRecordsNamesTheKeys) {
  std::vector<std::int64_t> labels(200, 7);
  labels[0] = 1;
  try {
    make_splits({.pool = 200, .reference = 10, .holdout = 10, .max_train = 50}, 1, {.labels = labels, .classes = {1}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("data.member_classes"));
    EXPECT_THAT(e.what(), testing::HasSubstr("sweep.train_sizes"));
  }
  EXPECT_THROW(make_splits({.pool = 200, .reference = 10, .holdout = 10, .max_train = 5}, 1,
                           {.labels = std::span(labels).first(100), .classes = {1}}),
               ConfigError);
}

}  // namespace
}  // namespace ganleaks::data
