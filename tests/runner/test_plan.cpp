#include "runner/plan.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "runner/messages.h"

namespace ganleaks::runner {
namespace {

Config sweep_config() {
  Config c;
  c.experiment.seeds = {0, 1};
  c.sweep.train_sizes = {64, 256, 1024};
  c.attack.settings = {"fbb", "dis"};
  c.attack.calibrated = {false, true};
  c.attack.max_queries = 500;
  return c;
}

TEST(Plan, ExpandsSeedsSizesAndSettingsWithDependencies) {
  const auto jobs = make_plan(sweep_config());
  // per seed: 1 reference + 3 victims + 3 sizes x 2 settings attacks
  ASSERT_EQ(jobs.size(), 2u * (1 + 3 + 6));
  std::set<std::string> names;
  for (const auto& job : jobs) {
    EXPECT_EQ(job.id, &job - jobs.data());
    EXPECT_TRUE(names.insert(job.name).second) << "duplicate name " << job.name;
    for (int dep : job.depends_on) {
      EXPECT_LT(dep, job.id) << job.name << " depends on a later job";
      EXPECT_FALSE(jobs[dep].collective());
    }
    if (job.collective()) {
      ASSERT_EQ(job.depends_on.size(), 2u) << job.name;
      EXPECT_EQ(jobs[job.depends_on[0]].name, victim_run_name(job.train_size, job.seed));
      EXPECT_EQ(jobs[job.depends_on[1]].name, reference_run_name(job.seed));
    }
  }
  EXPECT_TRUE(names.contains("victim-n64-s1"));
  EXPECT_TRUE(names.contains("reference-s0"));
  EXPECT_TRUE(names.contains("dis-n1024-s1"));
}

// Several models: each gets its own reference, victims and attacks, named after it; the attack depends on
// its own model's runs.
TEST(Plan, ModelsAreASweepDimensionNamedInEveryJob) {
  auto config = sweep_config();
  config.experiment.seeds = {0};
  config.model.names = {"dcgan", "vae"};
  const auto jobs = make_plan(config);
  ASSERT_EQ(jobs.size(), 2u * (1 + 3 + 6));
  std::set<std::string> names;
  for (const auto& job : jobs) {
    EXPECT_TRUE(names.insert(job.name).second) << "duplicate name " << job.name;
    EXPECT_TRUE(job.name.starts_with(job.model + "-")) << job.name;
    for (int dep : job.depends_on) EXPECT_EQ(jobs[dep].model, job.model) << job.name;
  }
  EXPECT_TRUE(names.contains("vae-reference-s0"));
  EXPECT_TRUE(names.contains("vae-victim-n64-s0"));
  EXPECT_TRUE(names.contains("dcgan-dis-n1024-s0"));
  EXPECT_EQ(model_tag(config, "vae"), "vae");
  EXPECT_EQ(model_tag(sweep_config(), "dcgan"), "");  // one model: the names it always had
}

TEST(Plan, NoReferenceModelWithoutCalibration) {
  auto c = sweep_config();
  c.attack.calibrated = {false};
  for (const auto& job : make_plan(c)) {
    EXPECT_NE(job.role, "reference");
    if (job.collective()) EXPECT_EQ(job.depends_on.size(), 1u);
  }
}

TEST(Plan, QueryAndHoldoutSizes) {
  const auto c = sweep_config();
  EXPECT_EQ(query_count(c, 64), 64);
  EXPECT_EQ(query_count(c, 1024), 500);
  EXPECT_EQ(holdout_size(c), 500);
}

TEST(Plan, GroupNamesSayWhetherCalibrated) {
  const auto jobs = make_plan(sweep_config());
  const auto& attack = jobs[2];
  ASSERT_TRUE(attack.collective());
  EXPECT_EQ(attack_group_name(attack, true), attack.name + "-cal");
  EXPECT_EQ(attack_group_name(attack, false), attack.name + "-uncal");
}

TEST(Plan, PrivacyLevelsAddVictimsAndAttacksButNoReference) {
  auto c = sweep_config();
  c.experiment.seeds = {0};
  c.privacy.target_epsilons = {10.0, 1.0};
  const auto jobs = make_plan(c);
  // 1 reference + 3 levels x (3 victims + 6 attacks)
  ASSERT_EQ(jobs.size(), 1u + 3 * 9);
  int references = 0;
  for (const auto& job : jobs) {
    references += job.role == "reference";
    if (job.collective()) {
      EXPECT_EQ(jobs[job.depends_on[0]].privacy, job.privacy) << job.name;
      EXPECT_EQ(jobs[job.depends_on[0]].name, victim_run_name(job.train_size, job.seed, job.privacy));
    }
  }
  EXPECT_EQ(references, 1);
  EXPECT_EQ(jobs[2].name, "fbb-n64-s0");                  // the non-private jobs keep their names
  EXPECT_EQ(jobs.back().name, "dis-n1024-s0-eps1");
  const auto levels = privacy_levels(c);
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_EQ(levels[1].display(), "DP ε=10");
  EXPECT_THROW(privacy_level(c, "eps3"), std::invalid_argument);
}

TEST(Plan, DpSettingsFollowSpecDefaults) {
  auto c = sweep_config();
  c.train.batch_size = 64;
  c.train.iterations = 300;
  c.privacy.noise_multipliers = {1.0};
  const auto s = dp_settings(c, privacy_levels(c)[1], 1000);
  EXPECT_DOUBLE_EQ(s.sample_rate, 0.064);  // batch_size / n
  EXPECT_DOUBLE_EQ(s.delta, 1e-3);         // 1/n rounded down to a power of ten
  EXPECT_DOUBLE_EQ(s.noise_multiplier, 1.0);
  EXPECT_EQ(s.steps, 300);
  EXPECT_DOUBLE_EQ(dp_settings(c, privacy_levels(c)[1], 64).delta, 1e-2);
  EXPECT_DOUBLE_EQ(dp_settings(c, privacy_levels(c)[1], 32).sample_rate, 1.0);  // q capped at 1
  // A target ε comes back as the ε spent (the inverse of the accountant).
  c.privacy.noise_multipliers.clear();
  c.privacy.target_epsilons = {2.0};
  const auto t = dp_settings(c, privacy_levels(c)[1], 1000);
  EXPECT_NEAR(t.epsilon, 2.0, 1e-6);
  EXPECT_THROW(dp_settings(c, privacy_levels(c)[0], 1000), std::invalid_argument);
}

TEST(Messages, RoundTripThroughBoostSerialization) {
  Assignment a;
  a.job = make_plan(sweep_config())[3];
  const auto back = from_bytes<Assignment>(to_bytes(a));
  EXPECT_FALSE(back.stop);
  EXPECT_EQ(back.job.name, a.job.name);
  EXPECT_EQ(back.job.depends_on, a.job.depends_on);
  EXPECT_EQ(back.job.kind, a.job.kind);
  a.job.privacy = "eps10";
  EXPECT_EQ(from_bytes<Assignment>(to_bytes(a)).job.privacy, "eps10");

  Request r;
  r.finished = {.job_id = 5, .ok = false, .error = "out of memory", .wall_seconds = 1.5, .rank = 1, .host = "node7"};
  const auto r2 = from_bytes<Request>(to_bytes(r));
  EXPECT_EQ(r2.finished.job_id, 5);
  EXPECT_FALSE(r2.finished.ok);
  EXPECT_EQ(r2.finished.error, "out of memory");
  EXPECT_EQ(r2.finished.host, "node7");
}

}  // namespace
}  // namespace ganleaks::runner

namespace ganleaks::runner {
namespace {

Config extraction_config() {
  Config c;
  c.experiment.task = "extraction";
  c.model.names = {"sngan"};
  c.extraction.attack_models = {"dcgan"};
  c.extraction.fidelity_queries = {1000, 4000};
  c.extraction.accuracy_queries = {3000};
  c.extraction.refiners = {"mh"};
  c.extraction.defenses = {"jpeg", "linear"};
  c.extraction.defense_queries = 2000;
  c.defenses.jpeg_quality = {10, 50};
  c.extraction.transfer = true;
  return c;
}

// One classifier, then per (target, seed): the target and its evaluation, the answers per prior and defense,
// an attack run and its evaluation per budget; undefended fidelity extraction also at the defense and accuracy
// budgets; the transfer study from the largest fidelity run.
TEST(Plan, ExtractionJobsAndTheirDependencies) {
  const auto config = extraction_config();
  const auto jobs = make_plan(config);
  std::map<std::string, const Job*> by_name;
  for (const auto& job : jobs) {
    EXPECT_TRUE(by_name.emplace(job.name, &job).second) << "duplicate " << job.name;
    for (int dep : job.depends_on) EXPECT_LT(dep, job.id) << job.name;
  }
  EXPECT_EQ(fidelity_budgets(config), (std::vector<std::int64_t>{1000, 2000, 3000, 4000}));
  // classifier, target, eval-target, queries-normal, 4 x (attack + eval), 3 defended queries x (queries + attack +
  // eval), refine + attack + eval, 2 x (transfer + eval)
  EXPECT_EQ(jobs.size(), 1u + 2 + 1 + 8 + 9 + 3 + 4);
  EXPECT_EQ(jobs.front().kind, JobKind::kClassifier);
  const auto& answers = *by_name.at("queries-normal-s0");
  EXPECT_EQ(answers.queries, 4000);
  EXPECT_EQ(answers.kind, JobKind::kQueries);
  EXPECT_TRUE(answers.collective());
  const auto& jpeg = *by_name.at("queries-normal-jpeg10-s0");
  EXPECT_EQ(jpeg.defense, "jpeg");
  EXPECT_EQ(jpeg.strength, 10);
  EXPECT_EQ(jpeg.queries, 2000);
  EXPECT_TRUE(by_name.contains("queries-normal-linear0.5-s0"));
  const auto& run = *by_name.at("attack-dcgan-normal-q2000-s0");
  EXPECT_EQ(run.role, "attack");
  EXPECT_EQ(run.input, "queries-normal-s0");
  EXPECT_EQ(run.queries, 2000);
  EXPECT_EQ(run.model, "dcgan");
  const auto& eval = *by_name.at("eval-attack-dcgan-normal-jpeg50-q2000-s0");
  EXPECT_EQ(eval.kind, JobKind::kEvaluate);
  EXPECT_EQ(jobs[eval.depends_on[0]].name, "attack-dcgan-normal-jpeg50-q2000-s0");
  EXPECT_EQ(jobs[eval.depends_on[1]].name, "eval-target-s0");
  const auto& refined = *by_name.at("refined-mh-q3000-s0");
  EXPECT_EQ(refined.kind, JobKind::kRefine);
  EXPECT_EQ(by_name.at("attack-dcgan-mh-q3000-s0")->method, "accuracy-mh");
  const auto& finetune = *by_name.at("transfer-finetune-dcgan-s0");
  EXPECT_EQ(finetune.init, "attack-dcgan-normal-q4000-s0");
  EXPECT_EQ(by_name.at("transfer-scratch-dcgan-s0")->init, "");
  EXPECT_TRUE(by_name.contains("eval-transfer-scratch-dcgan-s0"));
}

TEST(Plan, DefenseVariantsFollowTheGrids) {
  const auto variants = defense_variants(extraction_config());
  ASSERT_EQ(variants.size(), 3u);
  EXPECT_EQ(variants[0].label(), "jpeg10");
  EXPECT_EQ(variants[1].label(), "jpeg50");
  EXPECT_EQ(variants[2].label(), "linear0.5");
}

TEST(Plan, ClassifierCacheKeyChangesWithItsSettings) {
  auto config = extraction_config();
  const auto key = classifier_cache_key(config);
  EXPECT_EQ(key.size(), 16u);
  config.extraction.fidelity_queries = {500};  // not a classifier setting
  EXPECT_EQ(classifier_cache_key(config), key);
  config.features.classifier_iterations += 1;
  EXPECT_NE(classifier_cache_key(config), key);
}

}  // namespace
}  // namespace ganleaks::runner

namespace ganleaks::runner {
namespace {

// Every job that is not shared lies in exactly one slice with its unit; a slice holds what its jobs need.
TEST(Plan, SlicesPartitionTheUnitsAndCarryTheirDependencies) {
  for (const auto& config : {sweep_config(), extraction_config()}) {
    const auto jobs = make_plan(config);
    std::vector<int> owners(jobs.size(), 0);
    for (int k = 0; k < 3; ++k) {
      const auto in = jobs_in_slice(jobs, {k, 3});
      for (const auto& job : jobs) {
        if (!in[job.id]) continue;
        if (!shared_job(job)) ++owners[job.id];
        for (int d : job.depends_on) EXPECT_TRUE(in[d]) << job.name << " without its dependency " << jobs[d].name;
      }
    }
    for (const auto& job : jobs) {
      if (!shared_job(job)) EXPECT_EQ(owners[job.id], 1) << job.name;
    }
    const auto whole = jobs_in_slice(jobs, {});
    EXPECT_TRUE(std::ranges::all_of(whole, [](bool b) { return b; }));
  }
  // An attack stays with its victim.
  const auto jobs = make_plan(sweep_config());
  for (int k = 0; k < 2; ++k) {
    const auto in = jobs_in_slice(jobs, {k, 2});
    for (const auto& job : jobs) {
      if (job.collective() && in[job.id]) EXPECT_TRUE(in[job.depends_on[0]]);
    }
  }
}

// Job hashes follow what a job reads: extending the sweep leaves the existing jobs' hashes; a training setting
// changes every training job and, through them, every attack; an attack setting only the attacks.
TEST(Plan, JobHashesChangeWithWhatTheJobDependsOn) {
  const auto hashes = [](const Config& c) {
    std::map<std::string, std::string> out;
    for (const auto& job : make_plan(c)) out[job.name] = job.hash;
    return out;
  };
  const auto base = hashes(sweep_config());
  auto extended = sweep_config();
  extended.sweep.train_sizes = {64, 256, 512, 1024};
  for (const auto& [name, hash] : hashes(extended)) {
    if (base.contains(name)) EXPECT_EQ(hash, base.at(name)) << name;
  }
  auto trained = sweep_config();
  trained.train.batch_size = 32;
  for (const auto& [name, hash] : hashes(trained)) EXPECT_NE(hash, base.at(name)) << name;
  auto attacked = sweep_config();
  attacked.attack.fbb_samples = 1000;
  for (const auto& job : make_plan(attacked)) {
    EXPECT_EQ(job.hash != base.at(job.name), job.collective()) << job.name;
  }
  auto extraction = extraction_config();
  const auto classifier = make_plan(extraction).front().hash;
  extraction.model.z_dim = 8;  // the classifier is shared through its cache: it does not depend on the GANs
  EXPECT_EQ(make_plan(extraction).front().hash, classifier);
}

}  // namespace
}  // namespace ganleaks::runner
