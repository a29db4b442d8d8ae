// Shadow models in the membership plan (membership/shadow.h, plan.h): which records each shadow trains on, and the
// jobs that raising attack.shadow_models adds while keeping the others.
#include "membership/shadow.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/errors.h"
#include "../core/key_usage.h"
#include "membership/plan.h"

namespace ganleaks::membership {
namespace {

Config shadow_config(std::int64_t shadows, const std::string& mode) {
  Config c;
  c.experiment.seeds = {0};
  c.sweep.train_sizes = {64, 256};
  c.attack.settings = {"fbb", "dis"};
  c.attack.max_queries = 100;
  c.attack.shadow_models = shadows;
  c.attack.shadow_mode = mode;
  c.data.reference_size = 1200;
  return c;
}

data::SeedSplits splits_of(const Config& c, std::uint64_t seed) {
  return data::make_splits({.pool = 60000, .reference = c.data.reference_size, .holdout = holdout_size(c),
                            .max_train = c.sweep.train_sizes.back()},
                           seed);
}

TEST(ShadowPopulation, PairsSplitThePopulationAndEveryRecordIsInHalfTheShadows) {
  for (const std::string mode : {"online", "offline"}) {
    SCOPED_TRACE(mode);
    const auto c = shadow_config(8, mode);
    const auto s = splits_of(c, 3);
    const std::int64_t n = 256;
    const auto population = shadow_population(c, s, n, 3);
    ASSERT_EQ(population.records.size(), 2u * n);
    ASSERT_EQ(population.rmia.size(), static_cast<std::size_t>(c.attack.rmia_population));
    const std::set<std::int64_t> p(population.records.begin(), population.records.end());
    ASSERT_EQ(p.size(), 2u * n) << "population records repeat";
    for (const auto z : population.rmia) EXPECT_FALSE(p.contains(z)) << "a population record z is in P";
    const auto queries = data::make_query_set(s, n, query_count(c, n), 3).sample_index;
    for (const auto q : queries) EXPECT_EQ(p.contains(q), mode == "online") << q;
    std::map<std::int64_t, int> times_in;
    for (int k = 0; k < 8; ++k) {
      const auto rows = shadow_training_rows(c, s, n, 3, k);
      ASSERT_EQ(rows.size(), static_cast<std::size_t>(n));
      for (const auto r : rows) {
        EXPECT_TRUE(p.contains(r));
        ++times_in[r];
      }
      if (k % 2 == 1) {  // a pair's halves are complementary
        auto pair = shadow_training_rows(c, s, n, 3, k - 1);
        pair.insert(pair.end(), rows.begin(), rows.end());
        EXPECT_EQ(std::set<std::int64_t>(pair.begin(), pair.end()), p);
      }
    }
    for (const auto r : p) EXPECT_EQ(times_in[r], 4) << r;
    // Another seed draws other halves.
    EXPECT_NE(shadow_training_rows(c, splits_of(c, 4), n, 4, 0), shadow_training_rows(c, s, n, 3, 0));
  }
}

TEST(ShadowPopulation, SignalsArePositiveTransformsOfTheLosses) {
  EXPECT_DOUBLE_EQ(lira_signal("fbb", std::exp(-2.0), 100), 2.0);
  EXPECT_DOUBLE_EQ(lira_signal("dis", -3.0, 100), 3.0);  // loss = −logit
  EXPECT_DOUBLE_EQ(lira_signal("mc", -0.75, 4), 0.0);    // log(f + 1/k) = log(0.75 + 0.25)
  EXPECT_DOUBLE_EQ(rmia_likelihood("fbb", 2.0, 100), std::exp(-2.0));
  EXPECT_DOUBLE_EQ(rmia_likelihood("dis", 0.0, 100), 0.5);
  EXPECT_NEAR(rmia_likelihood("dis", -20.0, 100), 1.0, 1e-8);
}

TEST(ShadowPlan, RaisingKAddsShadowsAndKeepsEveryOtherJob) {
  const auto four = make_plan(shadow_config(4, "online")), eight = make_plan(shadow_config(8, "online"));
  const auto hashes_four = test_support::job_hashes(four.jobs), hashes_eight = test_support::job_hashes(eight.jobs);
  int replaced = 0;
  for (const auto& [name, hash] : hashes_four) {
    if (name.find("-shadows4-") != std::string::npos) {  // only the shadow attacks read K, and name it
      ++replaced;
      EXPECT_FALSE(hashes_eight.contains(name)) << name;
      continue;
    }
    ASSERT_TRUE(hashes_eight.contains(name)) << name;
    EXPECT_EQ(hashes_eight.at(name), hash) << name;
  }
  EXPECT_EQ(replaced, 4);  // 2 settings × 2 sizes
  // Per size: 4 more shadows, and for each setting their 4 signal jobs.
  EXPECT_EQ(eight.jobs.size(), four.jobs.size() + 2 * (4 + 2 * 4));
  std::map<std::string, const runner::Job*> by_name;
  for (const auto& job : eight.jobs) by_name[job.name] = &job;
  const auto& attack = *by_name.at("fbb-shadows8-n64-s0");
  const auto& spec = eight.specs[attack.id];
  EXPECT_EQ(spec.kind, JobKind::kShadowAttack);
  EXPECT_FALSE(attack.collective);
  ASSERT_EQ(spec.signals.size(), 9u);
  EXPECT_EQ(attack.depends_on, spec.signals);
  EXPECT_EQ(eight.jobs[spec.signals[0]].name, "signals-fbb-victim-n64-s0");
  EXPECT_EQ(eight.jobs[spec.signals[8]].name, "signals-fbb-shadow7-online-n64-s0");
  const auto& signal = eight.jobs[spec.signals[8]];
  EXPECT_TRUE(signal.collective);
  EXPECT_EQ(signal.depends_on, std::vector<int>{by_name.at("shadow7-online-n64-s0")->id});
  const auto& shadow = eight.specs[by_name.at("shadow7-online-n64-s0")->id];
  EXPECT_EQ(shadow.role, Role::kShadow);
  EXPECT_EQ(shadow.shadow, 7);
  EXPECT_EQ(shadow.train_size, 64);
  // The mode changes the shadows' records, so their trainings (and names).
  const auto offline = test_support::job_hashes(make_plan(shadow_config(4, "offline")).jobs);
  EXPECT_TRUE(offline.contains("shadow0-offline-n64-s0"));
  EXPECT_EQ(offline.at("victim-n64-s0"), hashes_four.at("victim-n64-s0"));
}

// [[variant]] arms of K = 2 and 4: the second reuses the first's shadows and their signals; every signal job
// scores its own model.
TEST(ShadowPlan, ArmsShareShadowsAndSignals) {
  const auto c = parse_config(R"(
[experiment]
seeds = [0]
[sweep]
train_sizes = [64, 256]
[attack]
settings = ["fbb", "dis"]
max_queries = 100
[[variant]]
label = "k2"
attack.shadow_models = 2
[[variant]]
label = "k4"
attack.shadow_models = 4
)", "arms.toml");
  const auto plan = make_plan(c);
  std::map<std::string, int> kinds;
  std::set<int> scored;
  for (const auto& job : plan.jobs) {
    ++kinds[job.kind];
    if (job.kind == "signals") EXPECT_TRUE(scored.insert(job.depends_on.at(0) * 10 + (job.name.find("-dis-") != std::string::npos)).second) << job.name;
  }
  EXPECT_EQ(kinds["train"], 1 + 2 * (1 + 4));          // reference; per size the victim and 4 shadows
  EXPECT_EQ(kinds["signals"], 2 * 2 * (1 + 4));        // per size and setting: the victim and 4 shadows
  EXPECT_EQ(kinds["shadow-attack"], 2 * 2 * 2);        // per arm, size and setting
  std::set<std::string> names;
  for (const auto& job : plan.jobs) names.insert(job.name);
  EXPECT_TRUE(names.contains("k2-signals-fbb-shadow1-online-n64-s0"));  // named by the first arm that has it
  EXPECT_TRUE(names.contains("k4-signals-fbb-shadow3-online-n64-s0"));
}

TEST(ShadowConfig, RulesNameTheKeys) {
  const auto parse = [](const std::string& attack) {
    return parse_config("[sweep]\ntrain_sizes = [64]\n[attack]\n" + attack, "shadow.toml");
  };
  EXPECT_NO_THROW(parse("shadow_models = 4\n"));
  try {
    parse("shadow_models = 3\n");
    ADD_FAILURE() << "an odd K was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("attack.shadow_models = 3 must be even"));
  }
  try {
    parse("shadow_models = 4\nshadow_mode = \"offline\"\nrmia_population = 900\n");
    ADD_FAILURE() << "a reference split too small was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("needs 1028 records of the reference split"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("data.reference_size = 1000"));
  }
  EXPECT_THROW(parse("shadow_models = 2\nshadow_spread = \"per-query\"\n"), ConfigError);
}

}  // namespace
}  // namespace ganleaks::membership
