// The membership sweep's job graph: victims, references and attacks with their dependencies, names and hashes.
#include "membership/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "../core/key_usage.h"
#include "runner/plan.h"

namespace ganleaks::membership {
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

TEST(MembershipPlan, ExpandsSeedsSizesAndSettingsWithDependencies) {
  const auto plan = make_plan(sweep_config());
  const auto& jobs = plan.jobs;
  // per seed: 1 reference + 3 victims + 3 sizes x 2 settings attacks
  ASSERT_EQ(jobs.size(), 2u * (1 + 3 + 6));
  ASSERT_EQ(plan.specs.size(), jobs.size());
  std::set<std::string> names;
  for (const auto& job : jobs) {
    const auto& spec = plan.specs[job.id];
    EXPECT_EQ(job.id, &job - jobs.data());
    EXPECT_TRUE(names.insert(job.name).second) << "duplicate name " << job.name;
    EXPECT_EQ(job.collective, spec.kind == JobKind::kAttack) << job.name;
    EXPECT_EQ(job.shared, spec.kind == JobKind::kTrain && spec.role == Role::kReference) << job.name;
    for (int dep : job.depends_on) {
      EXPECT_LT(dep, job.id) << job.name << " depends on a later job";
      EXPECT_FALSE(jobs[dep].collective);
    }
    if (job.collective) {
      ASSERT_EQ(job.depends_on, (std::vector<int>{spec.victim, spec.reference})) << job.name;
      EXPECT_EQ(jobs[spec.victim].name, victim_run_name(spec.train_size, spec.seed));
      EXPECT_EQ(jobs[spec.reference].name, reference_run_name(spec.seed));
    }
  }
  EXPECT_TRUE(names.contains("victim-n64-s1"));
  EXPECT_TRUE(names.contains("reference-s0"));
  EXPECT_TRUE(names.contains("dis-n1024-s1"));
}

// Several models: each gets its own reference, victims and attacks, named after it; the attack depends on its own
// model's runs.
TEST(MembershipPlan, ModelsAreASweepDimensionNamedInEveryJob) {
  auto config = sweep_config();
  config.experiment.seeds = {0};
  config.model.names = {"dcgan", "vae"};
  const auto plan = make_plan(config);
  ASSERT_EQ(plan.jobs.size(), 2u * (1 + 3 + 6));
  std::set<std::string> names;
  for (const auto& job : plan.jobs) {
    const auto& model = plan.specs[job.id].model;
    EXPECT_TRUE(names.insert(job.name).second) << "duplicate name " << job.name;
    EXPECT_TRUE(job.name.starts_with(model + "-")) << job.name;
    for (int dep : job.depends_on) EXPECT_EQ(plan.specs[dep].model, model) << job.name;
  }
  EXPECT_TRUE(names.contains("vae-reference-s0"));
  EXPECT_TRUE(names.contains("vae-victim-n64-s0"));
  EXPECT_TRUE(names.contains("dcgan-dis-n1024-s0"));
  EXPECT_EQ(model_tag(config, "vae"), "vae");
  EXPECT_EQ(model_tag(sweep_config(), "dcgan"), "");  // one model: the names it always had
}

TEST(MembershipPlan, NoReferenceModelWithoutCalibration) {
  auto c = sweep_config();
  c.attack.calibrated = {false};
  const auto plan = make_plan(c);
  for (const auto& job : plan.jobs) {
    EXPECT_FALSE(plan.specs[job.id].kind == JobKind::kTrain && plan.specs[job.id].role == Role::kReference);
    if (job.collective) EXPECT_EQ(job.depends_on.size(), 1u);
  }
}

TEST(MembershipPlan, QueryAndHoldoutSizes) {
  const auto c = sweep_config();
  EXPECT_EQ(query_count(c, 64), 64);
  EXPECT_EQ(query_count(c, 1024), 500);
  EXPECT_EQ(holdout_size(c), 500);
}

TEST(MembershipPlan, GroupNamesSayWhetherCalibrated) {
  EXPECT_EQ(attack_group_name("fbb-n64-s0", true), "fbb-n64-s0-cal");
  EXPECT_EQ(attack_group_name("fbb-n64-s0", false), "fbb-n64-s0-uncal");
}

// Every privacy level has its victims and attacks; the DP settings are resolved once, at plan time, and carried by
// the victims and their attacks alike.
TEST(MembershipPlan, PrivacyLevelsAddVictimsAndAttacksButNoReference) {
  auto c = sweep_config();
  c.experiment.seeds = {0};
  c.privacy.target_epsilons = {10.0, 1.0};
  const auto plan = make_plan(c);
  const auto& jobs = plan.jobs;
  // 1 reference + 3 levels x (3 victims + 6 attacks)
  ASSERT_EQ(jobs.size(), 1u + 3 * 9);
  int references = 0;
  for (const auto& job : jobs) {
    const auto& spec = plan.specs[job.id];
    references += spec.kind == JobKind::kTrain && spec.role == Role::kReference;
    EXPECT_EQ(spec.dp.has_value(), spec.level.dp()) << job.name;
    if (job.collective) {
      const auto& victim = plan.specs[spec.victim];
      EXPECT_EQ(victim.level.label, spec.level.label) << job.name;
      ASSERT_TRUE(victim.dp.has_value() == spec.dp.has_value());
      if (spec.dp) EXPECT_EQ(victim.dp->noise_multiplier, spec.dp->noise_multiplier) << job.name;
      EXPECT_EQ(jobs[spec.victim].name, victim_run_name(spec.train_size, spec.seed, spec.level.label));
    }
  }
  EXPECT_EQ(references, 1);
  EXPECT_EQ(jobs[2].name, "fbb-n64-s0");  // the non-private jobs keep their names
  EXPECT_EQ(jobs.back().name, "dis-n1024-s0-eps1");
  EXPECT_NEAR(plan.specs.back().dp->epsilon, 1.0, 1e-6);  // the accountant found σ for the target ε
}

// Job hashes follow what a job reads: extending the sweep leaves the existing jobs' hashes; a training setting
// changes every training job and, through them, every attack; an attack setting only the attacks.
TEST(MembershipPlan, JobHashesChangeWithWhatTheJobDependsOn) {
  const auto hashes = [](const Config& c) { return test_support::job_hashes(make_plan(c).jobs); };
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
  const auto plan = make_plan(attacked);
  for (const auto& [name, hash] : hashes(attacked)) {
    const auto job = std::ranges::find(plan.jobs, name, &runner::Job::name);
    EXPECT_EQ(hash != base.at(name), job->collective) << name;
  }
}

// The hashes are the ones earlier versions wrote into their records, so that finished results stay valid across
// versions: these values are demo.toml's, as written by the version before the task seam (results.h5 job_hash).
TEST(MembershipPlan, JobHashesAreStableAcrossVersions) {
  Config demo;
  demo.source = "configs/demo.toml";
  demo.experiment.name = "demo";
  demo.model.width = 16;
  demo.train = {.iterations = 4000, .batch_size = 32, .lr_g = 0.0005, .lr_d = 0.0005, .checkpoint_every = 500};
  const auto hashes = test_support::job_hashes(make_plan(demo).jobs);
  EXPECT_EQ(hashes.at("reference-s0"), "6f913ab5a730ed5e");
  EXPECT_EQ(hashes.at("victim-n64-s0"), "cc765f21ac6ea5b1");
  // Attack hashes changed once on purpose (issue #17: fbb calibrated on distances, pbb/wb start from zero by
  // default, attack.pbb_line_search): finished attacks are redone, trained models are kept.
  EXPECT_EQ(hashes.at("fbb-n1024-s0"), "f7d95caa8f6225e0");
}

// attack.perceptual = "classifier" adds one classifier job (shared, cached by its key) that only the searches
// wait for; its key follows the Fashion-MNIST file it trains on, the one data.pool leaves out.
TEST(MembershipPlan, PerceptualClassifierJobFeedsThePbbAndWbAttacks) {
  auto c = sweep_config();
  c.attack.settings = {"fbb", "pbb", "wb"};
  EXPECT_FALSE(std::ranges::any_of(make_plan(c).jobs, [](const runner::Job& j) { return j.kind == "perceptual"; }));
  c.attack.lambda_lpips = 0.2;
  c.attack.perceptual = "classifier";
  const auto plan = make_plan(c);
  const auto perceptual = std::ranges::find(plan.jobs, std::string(kPerceptualJobName), &runner::Job::name);
  ASSERT_NE(perceptual, plan.jobs.end());
  EXPECT_EQ(perceptual->kind, "perceptual");
  EXPECT_TRUE(perceptual->shared);
  EXPECT_FALSE(perceptual->collective);
  EXPECT_EQ(std::ranges::count(plan.jobs, std::string("perceptual"), &runner::Job::kind), 1);
  for (const auto& job : plan.jobs) {
    if (job.kind != "attack") continue;
    const bool searches = job.name.starts_with("pbb") || job.name.starts_with("wb");
    EXPECT_EQ(std::ranges::count(job.depends_on, perceptual->id), searches ? 1 : 0) << job.name;
  }
  EXPECT_EQ(perceptual_classifier_file(c), "test");
  auto on_test_pool = c;
  on_test_pool.data.pool = "test";
  EXPECT_EQ(perceptual_classifier_file(on_test_pool), "train");
  EXPECT_NE(perceptual_classifier_key(on_test_pool), perceptual_classifier_key(c));
}

// Every key reaches the plan: changed alone, each key that affects results changes some job's hash (or the jobs),
// and the keys that say where results go change nothing (tests/core/key_usage.h).
TEST(MembershipPlan, EveryKeyReachesTheJobHashes) {
  auto base = sweep_config();
  base.sweep.train_sizes = {64, 256};
  base.attack.settings = {"fbb", "pbb", "wb", "dis", "mc", "domias"};
  base.attack.lpips_model = "lpips.pt";  // so that attack.lambda_lpips > 0 is a valid change
  base.privacy.target_epsilons = {10.0};
  base.attack.shadow_models = 2;  // so that the shadow keys have jobs to reach
  base.data.reference_size = 2000;  // room for the offline shadow population (2n + rmia_population)
  base.experiment.deterministic = false;  // so that experiment.tf32 = true is a valid change
  const auto usage = test_support::key_usage<Config>(
      base, [](const std::string& text) { return parse_config(text, "key-usage.toml"); },
      [](const Config& c) { return test_support::job_hashes(make_plan(c).jobs); });
  // ddpm's keys reach ddpm's jobs alone (the next test); a DCGAN's results do not depend on them.
  EXPECT_EQ(usage.unused, test_support::kDiffusionKeys) << "keys that change no job's hash";
  EXPECT_THAT(usage.misdeclared, ::testing::IsEmpty()) << "keys declared not to affect results that do";
  // No other dataset fits the DCGAN alone, no other model has DP-SGD, and σ and ε levels cannot both be given.
  EXPECT_EQ(usage.immovable, (std::vector<std::string>{"data.dataset", "model.name", "privacy.noise_multipliers"}));
}

TEST(MembershipPlan, EveryDiffusionKeyReachesTheJobHashesOfDdpm) {
  auto base = sweep_config();
  base.model.names = {"ddpm"};
  base.model.width = 16;
  base.model.sampling_steps = 20;  // so that one more or one fewer is valid
  base.attack.settings = {"loss", "secmi", "pia", "fbb"};
  const auto usage = test_support::key_usage<Config>(
      base, [](const std::string& text) { return parse_config(text, "key-usage.toml"); },
      [](const Config& c) { return test_support::job_hashes(make_plan(c).jobs); });
  for (const auto& key : test_support::kDiffusionKeys) EXPECT_THAT(usage.unused, ::testing::Not(::testing::Contains(key)));
  EXPECT_THAT(usage.misdeclared, ::testing::IsEmpty());
}

// Several models are each attacked with the settings that apply to them (membership::applies); a setting that
// applies to none is refused.
TEST(MembershipPlan, EachModelGetsTheSettingsThatApplyToIt) {
  auto c = sweep_config();
  c.sweep.train_sizes = {64};
  c.model.names = {"dcgan", "ddpm"};
  c.model.width = 16;
  c.attack.settings = {"fbb", "dis", "loss", "secmi", "pia"};
  c.attack.calibrated = {false};
  c.experiment.seeds = {0};
  std::vector<std::string> attacks;
  for (const auto& job : make_plan(c).jobs) {
    if (job.kind == "attack") attacks.push_back(job.name);
  }
  EXPECT_EQ(attacks, (std::vector<std::string>{"dcgan-fbb-n64-s0", "dcgan-dis-n64-s0", "ddpm-fbb-n64-s0",
                                                "ddpm-loss-n64-s0", "ddpm-secmi-n64-s0", "ddpm-pia-n64-s0"}));
  EXPECT_TRUE(applies("mc", "ddpm"));
  EXPECT_FALSE(applies("wb", "ddpm"));
  EXPECT_FALSE(applies("pia", "vae"));
}

// [[variant]] tables: every arm attacks under its own label; arms that train the same model share its training
// job (named by the first arm), and a training that differs (another z_dim) starts from the same seed.
TEST(MembershipPlan, VariantsShareTheTrainingTheyHaveInCommon) {
  const auto c = parse_config(R"(
[experiment]
seeds = [0]
[sweep]
train_sizes = [64, 256]
[attack]
settings = ["fbb", "wb"]
calibrated = [false, true]
[[variant]]
label = "cut"
[[variant]]
label = "nn"
attack.wb_init = "nn"
[[variant]]
label = "z32"
model.z_dim = 32
)", "variants.toml");
  const auto plan = make_plan(c);
  std::map<std::string, const runner::Job*> by_name;
  for (const auto& job : plan.jobs) EXPECT_TRUE(by_name.emplace(job.name, &job).second) << "duplicate " << job.name;
  // cut and nn share one reference and two victims; z32 trains its own: 2 x 3 trainings, 3 arms x 2 x 2 attacks.
  EXPECT_EQ(std::ranges::count(plan.jobs, std::string("train"), &runner::Job::kind), 6);
  EXPECT_EQ(std::ranges::count(plan.jobs, std::string("attack"), &runner::Job::kind), 12);
  for (const auto* name : {"cut-victim-n64-s0", "cut-reference-s0", "z32-victim-n64-s0", "z32-reference-s0",
                           "cut-wb-n64-s0", "nn-wb-n64-s0", "z32-wb-n64-s0", "nn-fbb-n256-s0"}) {
    EXPECT_TRUE(by_name.contains(name)) << name;
  }
  EXPECT_FALSE(by_name.contains("nn-victim-n64-s0"));
  const auto id = [&](const char* name) { return by_name.at(name)->id; };
  EXPECT_EQ(by_name.at("nn-wb-n64-s0")->depends_on, (std::vector<int>{id("cut-victim-n64-s0"), id("cut-reference-s0")}));
  EXPECT_EQ(by_name.at("z32-wb-n64-s0")->depends_on, (std::vector<int>{id("z32-victim-n64-s0"), id("z32-reference-s0")}));
  const auto& cut_victim = plan.specs[id("cut-victim-n64-s0")];
  const auto& z32_victim = plan.specs[id("z32-victim-n64-s0")];
  EXPECT_EQ(cut_victim.training_seed, z32_victim.training_seed);
  EXPECT_EQ(plan.specs[id("nn-wb-n64-s0")].variant, "nn");
  EXPECT_EQ(plan.specs[id("nn-wb-n64-s0")].arm, 1);
  EXPECT_EQ(z32_victim.arm, 2);
  // A shared training job is the very job a config without variants runs: its results are reused.
  const auto hashes = test_support::job_hashes(plan.jobs);
  auto plain = c;
  plain.variants.clear();
  const auto plain_hashes = test_support::job_hashes(make_plan(plain).jobs);
  EXPECT_EQ(hashes.at("cut-victim-n64-s0"), plain_hashes.at("victim-n64-s0"));
  EXPECT_EQ(hashes.at("cut-reference-s0"), plain_hashes.at("reference-s0"));
  EXPECT_EQ(hashes.at("cut-wb-n64-s0"), plain_hashes.at("wb-n64-s0"));
  EXPECT_NE(hashes.at("nn-wb-n64-s0"), plain_hashes.at("wb-n64-s0"));
  EXPECT_NE(hashes.at("z32-victim-n64-s0"), plain_hashes.at("victim-n64-s0"));
}

}  // namespace
}  // namespace ganleaks::membership
