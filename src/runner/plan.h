#pragma once
// The sweep as a job graph: every (model, seed) trains one reference model, every (model, privacy level,
// train size, seed) one victim, and every (model, privacy level, attack setting, train size, seed) one
// attack that needs both. Job names are
// deterministic and name the job's output, which is how a rerun knows what is already done.
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace ganleaks::runner {

// One privacy level of the sweep: non-private, or DP-SGD at a target ε or at a noise multiplier σ.
struct PrivacyLevel {
  std::string label;            // "" (non-private), "eps3", "sigma0.8": the suffix of job names
  double target_epsilon = 0;    // > 0: σ is found by the accountant
  double noise_multiplier = 0;  // > 0: σ given
  bool dp() const { return !label.empty(); }
  std::string display() const;  // "non-private", "DP ε=3", "DP σ=0.8"
};

// Non-private first (if privacy.non_private), then the listed ε or σ in config order.
std::vector<PrivacyLevel> privacy_levels(const Config& config);
// The level named by a job's label; std::invalid_argument if the config has none such.
PrivacyLevel privacy_level(const Config& config, const std::string& label);

// Everything DP-SGD needs for one victim, resolved from the config (SPEC §2 defaults).
struct DpSettings {
  double noise_multiplier = 0;  // σ
  double sample_rate = 0;       // q (privacy.sample_rate, else batch_size / n, at most 1)
  double delta = 0;             // privacy.delta, else 1/n rounded down to a power of ten
  double max_grad_norm = 0;     // C
  std::int64_t steps = 0;       // discriminator steps = train.iterations × train.critic_steps
  double epsilon = 0;           // spent after `steps` (accountant)
  double order = 0;             // the RDP order that gave it
};
DpSettings dp_settings(const Config& config, const PrivacyLevel& level, std::int64_t train_size);

// kTrain: one model of the zoo (victim, reference, extraction target, attack GAN, transfer run) on one rank or a
// data-parallel group. kClassifier: the FID/JS classifier (one rank, cached across experiments). The others are
// collective over every rank: kAttack a membership attack; kQueries the target answering the thief's queries
// (defended or not); kRefine accuracy extraction's subsampling; kEvaluate an extraction FID/JS evaluation.
enum class JobKind : int { kTrain = 0, kAttack = 1, kClassifier = 2, kQueries = 3, kRefine = 4, kEvaluate = 5 };

// "train", "attack", "classifier", "queries", "refine", "evaluate": for plans and logs.
std::string_view kind_name(JobKind kind);

struct Job {
  int id = -1;
  JobKind kind = JobKind::kTrain;
  std::string name;             // run id ("victim-n64-s0") or attack id ("fbb-n64-s0")
  std::string role;             // train jobs: "victim" or "reference"
  std::string setting;          // attack jobs: "fbb", "dis", ...
  std::int64_t train_size = 0;  // victim n (victim and attack jobs); reference set size (reference jobs)
  std::uint64_t seed = 0;
  std::string privacy;          // victim and attack jobs: PrivacyLevel::label ("" = non-private)
  std::string model;            // one of model.name (extraction: the target, or for attack runs an attack model)
  std::vector<int> depends_on;  // job ids
  // Extraction (docs/extraction.md). role of train jobs: "target", "attack" or "transfer".
  std::string prior;            // queries, attack runs: the thief's latent prior
  std::string defense;          // queries, attack runs: a defense of kDefenseNames ("" = none)
  double strength = 0;          // its strength
  std::int64_t queries = 0;     // queries: answers to make; refine: generator calls; attack runs: answers used
  std::string input;            // attack runs: the queries/refine job they train on; evaluations: the run evaluated
  std::string init;             // transfer runs: the run whose weights they start from ("" = from scratch)
  std::string method;           // attack runs and evaluations: "fidelity", "accuracy-mh", "transfer-scratch", ...
  // What the job's output depends on, hashed: its own settings and its dependencies' hashes (job_hash). A
  // finished job's record carries it; a rerun reuses the record only if the hash still matches.
  std::string hash;

  // Attack, query, refine and evaluation jobs shard their work over all ranks, so every rank takes part.
  bool collective() const {
    return kind == JobKind::kAttack || kind == JobKind::kQueries || kind == JobKind::kRefine || kind == JobKind::kEvaluate;
  }
  bool trains() const { return kind == JobKind::kTrain; }

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & id & kind & name & role & setting & train_size & seed & privacy & model & depends_on;
    ar & prior & defense & strength & queries & input & init & method & hash;
  }
};

// Job names carry the model only when the config compares several ("vae-victim-n64-s0"), so that a
// one-model sweep keeps the names (and the results folders) it always had.
std::string model_tag(const Config& config, const std::string& model);
std::string victim_run_name(std::int64_t train_size, std::uint64_t seed, const std::string& privacy = "",
                            const std::string& model_tag = "");
std::string reference_run_name(std::uint64_t seed, const std::string& model_tag = "");
// Extraction: the evaluation of the target itself, whose record holds the target's and the real data's feature
// statistics that every attack evaluation of (model, seed) compares with.
std::string target_run_name(const Config& config, const std::string& target_model, std::uint64_t seed);
std::string target_evaluation_name(const Config& config, const std::string& target_model, std::uint64_t seed);
// The result group of one attack variant: "<attack id>-cal" or "<attack id>-uncal".
std::string attack_group_name(const Job& attack, bool calibrated);

// The job graph of the config's experiment.task, every job with its hash.
std::vector<Job> make_plan(const Config& config);

// The seed of a training job's weights, batches and noise. Every job has its own, except the thief's GANs: one
// per (attack model, seed) whatever the budget, prior, defense or refiner, so that a sweep over queries or
// defenses varies only the data the thief trains on, not its starting weights.
std::uint64_t training_seed(const Job& job);
// Its generator steps: train.iterations, or for the thief's GANs extraction.attack_iterations (when > 0) and for
// the transfer runs extraction.transfer_iterations.
std::int64_t training_iterations(const Config& config, const Job& job);

// A share of the plan for one of N concurrent processes (Slurm job arrays, `ganleaks run --slice k/N`). Jobs
// that several others need — reference models, the classifier, targets and their evaluations, the target's
// answers and refined samples — are shared; every other job belongs to the unit of its first non-shared
// dependency, or starts a unit of its own (a victim with its attacks; an attack run with its evaluation and
// the transfer run started from it). Unit u is in slice u mod N. A slice is its units' jobs plus every job they
// depend on (run by whichever slice gets there first; outputs are deterministic and committed atomically).
struct Slice {
  int index = 0, count = 1;  // k of N
  bool whole() const { return count == 1; }
};
bool shared_job(const Job& job);
std::vector<bool> jobs_in_slice(const std::vector<Job>& jobs, const Slice& slice);

// Extraction: the thief's fidelity-extraction budgets, fidelity_queries plus the defense and accuracy budgets
// (so that every defended or refined run has its undefended black-box run at the same budget), ascending.
std::vector<std::int64_t> fidelity_budgets(const Config& config);
// A defense variant of the [defenses] grids: "jpeg" at 20 is labelled "jpeg20".
struct DefenseVariant {
  std::string name;
  double strength = 0;
  std::string label() const;
};
std::vector<DefenseVariant> defense_variants(const Config& config);

// The FID/JS classifier's cache key: a hash of everything its weights depend on (data, [features] classifier
// keys), so that experiments with the same settings share one trained classifier (Layout::classifier_dir).
std::string classifier_cache_key(const Config& config);

// Query-set size m for a training-set size n: min(n, attack.max_queries).
std::int64_t query_count(const Config& config, std::int64_t train_size);
// Hold-out size: enough non-members for the largest query set.
std::int64_t holdout_size(const Config& config);

}  // namespace ganleaks::runner
