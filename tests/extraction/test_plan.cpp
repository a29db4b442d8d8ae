// Model extraction's job graph: the classifier, targets, answers, attack runs, refinement, evaluations and the
// transfer study, with their dependencies, names and hashes.
#include "extraction/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "../core/key_usage.h"
#include "runner/plan.h"

namespace ganleaks::extraction {
namespace {

Config extraction_config() {
  Config c;
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

// One classifier, then per (target, seed): the target and its evaluation, the answers per prior and defense, an
// attack run and its evaluation per budget; undefended fidelity extraction also at the defense and accuracy
// budgets; the transfer study from the largest fidelity run.
TEST(ExtractionPlan, JobsAndTheirDependencies) {
  const auto config = extraction_config();
  const auto plan = make_plan(config);
  const auto& jobs = plan.jobs;
  std::map<std::string, int> by_name;
  for (const auto& job : jobs) {
    EXPECT_TRUE(by_name.emplace(job.name, job.id).second) << "duplicate " << job.name;
    for (int dep : job.depends_on) EXPECT_LT(dep, job.id) << job.name;
  }
  const auto spec = [&](const std::string& name) { return plan.specs[by_name.at(name)]; };
  EXPECT_EQ(fidelity_budgets(config), (std::vector<std::int64_t>{1000, 2000, 3000, 4000}));
  // classifier, target, eval-target, queries-normal, 4 x (attack + eval), 3 defended queries x (queries + attack +
  // eval), refine + attack + eval, 2 x (transfer + eval)
  EXPECT_EQ(jobs.size(), 1u + 2 + 1 + 8 + 9 + 3 + 4);
  EXPECT_EQ(plan.specs.front().kind, JobKind::kClassifier);
  EXPECT_TRUE(jobs.front().shared);
  const auto answers = spec("queries-normal-s0");
  EXPECT_EQ(answers.queries, 4000);
  EXPECT_EQ(answers.kind, JobKind::kQueries);
  EXPECT_TRUE(jobs[by_name.at("queries-normal-s0")].collective);
  const auto jpeg = spec("queries-normal-jpeg10-s0");
  EXPECT_EQ(jpeg.defense, "jpeg");
  EXPECT_EQ(jpeg.strength, 10);
  EXPECT_EQ(jpeg.queries, 2000);
  EXPECT_TRUE(by_name.contains("queries-normal-linear0.5-s0"));
  const auto run = spec("attack-dcgan-normal-q2000-s0");
  EXPECT_EQ(run.role, Role::kAttack);
  EXPECT_EQ(run.input, "queries-normal-s0");
  EXPECT_EQ(run.queries, 2000);
  EXPECT_EQ(run.model, "dcgan");
  EXPECT_EQ(run.iterations, config.train.iterations);
  const auto& eval = jobs[by_name.at("eval-attack-dcgan-normal-jpeg50-q2000-s0")];
  EXPECT_EQ(plan.specs[eval.id].kind, JobKind::kEvaluate);
  EXPECT_EQ(jobs[eval.depends_on[0]].name, "attack-dcgan-normal-jpeg50-q2000-s0");
  EXPECT_EQ(jobs[eval.depends_on[1]].name, "eval-target-s0");
  EXPECT_EQ(spec("refined-mh-q3000-s0").kind, JobKind::kRefine);
  EXPECT_EQ(spec("refined-mh-q3000-s0").refiner, "mh");
  EXPECT_EQ(spec("attack-dcgan-mh-q3000-s0").method, "accuracy-mh");
  EXPECT_EQ(spec("transfer-finetune-dcgan-s0").init, "attack-dcgan-normal-q4000-s0");
  EXPECT_EQ(spec("transfer-finetune-dcgan-s0").iterations, config.extraction.transfer_iterations);
  EXPECT_EQ(spec("transfer-scratch-dcgan-s0").init, "");
  EXPECT_TRUE(by_name.contains("eval-transfer-scratch-dcgan-s0"));
  // The thief's GANs of one (model, seed) start from the same weights whatever their data.
  EXPECT_EQ(spec("attack-dcgan-normal-q2000-s0").training_seed, spec("attack-dcgan-mh-q3000-s0").training_seed);
  EXPECT_NE(spec("target-s0").training_seed, spec("transfer-scratch-dcgan-s0").training_seed);
}

TEST(ExtractionPlan, DefenseVariantsFollowTheGrids) {
  const auto variants = defense_variants(extraction_config());
  ASSERT_EQ(variants.size(), 3u);
  EXPECT_EQ(variants[0].label(), "jpeg10");
  EXPECT_EQ(variants[1].label(), "jpeg50");
  EXPECT_EQ(variants[2].label(), "linear0.5");
}

TEST(ExtractionPlan, ClassifierCacheKeyChangesWithItsSettings) {
  auto config = extraction_config();
  const auto key = classifier_cache_key(config);
  EXPECT_EQ(key.size(), 16u);
  config.extraction.fidelity_queries = {500};  // not a classifier setting
  EXPECT_EQ(classifier_cache_key(config), key);
  config.features.classifier_iterations += 1;
  EXPECT_NE(classifier_cache_key(config), key);
  // The classifier is shared through its cache: its hash does not depend on the GANs.
  auto other = extraction_config();
  const auto classifier = test_support::job_hashes(make_plan(other).jobs).at("classifier");
  other.model.z_dim = 8;
  EXPECT_EQ(test_support::job_hashes(make_plan(other).jobs).at("classifier"), classifier);
}

// The hashes are the ones earlier versions wrote into their records, so that finished results stay valid across
// versions: tests/e2e/extraction.toml's, as written by the version before the task seam (results.h5 job_hash).
TEST(ExtractionPlan, JobHashesAreStableAcrossVersions) {
  const auto config = parse_config(R"(
[experiment]
task = "extraction"
name = "steal"
seeds = [5]
[model]
name = "dcgan"
z_dim = 16
width = 8
[train]
iterations = 30
batch_size = 16
checkpoint_every = 10
[extraction]
target_train_size = 240
target_classes = [0, 1, 2, 3, 4]
attack_models = ["dcgan"]
priors = ["normal", "uniform"]
fidelity_queries = [300, 700]
accuracy_queries = [700]
refiners = ["mh", "drs"]
mh_chain_length = 10
partial_real = 100
defenses = ["linear", "semantic", "gaussian-noise", "adversarial-noise", "gaussian-filter", "jpeg"]
defense_queries = 300
fid_samples = 520
transfer = true
transfer_classes = [5, 6, 7, 8, 9]
transfer_train_size = 120
transfer_iterations = 20
[defenses]
semantic_samples = 300
semantic_k = 40
noise_std = [0.1, 0.3]
[features]
classifier_iterations = 40
classifier_batch_size = 64
classifier_width = 8
classifier_feature_dim = 16
)", "extraction.toml");
  const auto hashes = test_support::job_hashes(make_plan(config).jobs);
  EXPECT_EQ(hashes.at("classifier"), "bdc5528c4fc6d327");
  EXPECT_EQ(hashes.at("target-s5"), "abd5db3835efa080");
  EXPECT_EQ(hashes.at("queries-normal-s5"), "50e5f8768c87f865");
  EXPECT_EQ(hashes.at("eval-attack-dcgan-normal-q700-s5"), "34f1bc03137d3e66");
  EXPECT_EQ(hashes.at("refined-mh-q700-s5"), "eb1a8631f0265d8c");
  EXPECT_EQ(hashes.at("transfer-finetune-dcgan-s5"), "c438f24c2fbb4901");
}

// Every key reaches the plan (tests/core/key_usage.h).
TEST(ExtractionPlan, EveryKeyReachesTheJobHashes) {
  auto base = extraction_config();
  base.extraction.target_classes = {0, 1, 2, 3, 4};
  base.extraction.priors = {"normal", "uniform"};
  base.extraction.refiners = {"mh", "drs"};
  base.extraction.defenses = {"linear", "semantic", "gaussian-noise", "adversarial-noise", "gaussian-filter", "jpeg"};
  base.features.torchscript_model = "features.pt";  // so that features.extractor = "torchscript" is a valid change
  base.experiment.deterministic = false;           // so that experiment.tf32 = true is a valid change
  const auto usage = test_support::key_usage<Config>(
      base, [](const std::string& text) { return parse_config(text, "key-usage.toml"); },
      [](const Config& c) { return test_support::job_hashes(make_plan(c).jobs); });
  // ddpm's keys: extraction refuses ddpm, so no extraction job reads them.
  EXPECT_EQ(usage.unused, test_support::kDiffusionKeys) << "keys that change no job's hash";
  EXPECT_THAT(usage.misdeclared, ::testing::IsEmpty()) << "keys declared not to affect results that do";
  // Extraction steals image GANs on 32×32 Fashion-MNIST only.
  EXPECT_EQ(usage.immovable, (std::vector<std::string>{"data.dataset", "data.image_size"}));
}

}  // namespace
}  // namespace ganleaks::extraction
