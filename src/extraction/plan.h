#pragma once
// Model extraction as a job graph (Stealing GANs; docs/extraction.md): per (target model, seed) the target, its
// baseline evaluation, the answers to the thief's queries per prior and defense, the attack GANs trained on them
// (fidelity extraction) or on refined samples plus partial real data (accuracy extraction), their evaluations, and
// the transfer study; once, the FID/JS classifier. No LibTorch: the plan is made (and tested) without it.
#include <cstdint>
#include <string>
#include <vector>

#include "extraction/config.h"
#include "runner/job.h"

namespace ganleaks::extraction {

// kTrain: one model of the zoo (the target, an attack run, a transfer run) on one rank or a data-parallel group.
// kClassifier: the FID/JS classifier (one rank, cached across experiments). The others are collective over every
// rank: kQueries the target answering the thief's queries (defended or not); kRefine accuracy extraction's
// subsampling; kEvaluate an FID/JS evaluation.
enum class JobKind { kTrain, kClassifier, kQueries, kRefine, kEvaluate };
// Of training and evaluation jobs: what the model is to the experiment.
enum class Role { kNone, kTarget, kAttack, kTransfer };

struct JobSpec {
  JobKind kind = JobKind::kTrain;
  Role role = Role::kNone;
  std::string refiner;          // refine jobs: "mh" or "drs"
  std::int64_t train_size = 0;  // training jobs: records
  std::uint64_t seed = 0;       // the sweep's seed
  std::string model;            // the target (queries, refine, evaluations), or the model a training job trains
  std::string prior;            // queries, attack runs: the thief's latent prior
  std::string defense;          // queries, attack runs: one of kDefenseNames ("" = none)
  double strength = 0;          // its strength
  std::int64_t queries = 0;     // queries: answers to make; refine: generator calls; attack runs: answers used
  std::string input;            // attack runs: the queries/refine job they train on; evaluations: the run evaluated
  std::string init;             // transfer runs: the run whose weights they start from ("" = from scratch)
  std::string method;           // attack runs, evaluations: "fidelity", "accuracy-mh", "transfer-scratch", "target"
  std::uint64_t training_seed = 0;  // training jobs
  std::int64_t iterations = 0;      // training jobs: generator steps
};

using Job = runner::Described<JobSpec>;  // a job as the task's own code sees it
using Plan = runner::TaskPlan<JobSpec>;
Plan make_plan(const Config& config);

// The thief's fidelity-extraction budgets: fidelity_queries plus the defense and accuracy budgets (so that every
// defended or refined run has its undefended black-box run at the same budget), ascending.
std::vector<std::int64_t> fidelity_budgets(const Config& config);
// A defense variant of the [defenses] grids: "jpeg" at 20 is labelled "jpeg20".
struct DefenseVariant {
  std::string name;
  double strength = 0;
  std::string label() const;
};
std::vector<DefenseVariant> defense_variants(const Config& config);

// The FID/JS classifier's cache key: a hash of everything its weights depend on (data, [features] classifier
// keys), so that experiments with the same settings share one trained classifier.
std::string classifier_cache_key(const Config& config);

// Job names carry the target model only when the config compares several.
std::string model_tag(const Config& config, const std::string& model);
// The target's training run, and its evaluation (whose record holds the target's and the real data's feature
// statistics that every attack evaluation of (model, seed) compares with).
std::string target_run_name(const Config& config, const std::string& target_model, std::uint64_t seed);
std::string target_evaluation_name(const Config& config, const std::string& target_model, std::uint64_t seed);

}  // namespace ganleaks::extraction
