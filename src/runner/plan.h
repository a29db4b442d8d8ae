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

enum class JobKind : int { kTrain = 0, kAttack = 1 };

struct Job {
  int id = -1;
  JobKind kind = JobKind::kTrain;
  std::string name;             // run id ("victim-n64-s0") or attack id ("fbb-n64-s0")
  std::string role;             // train jobs: "victim" or "reference"
  std::string setting;          // attack jobs: "fbb", "dis", ...
  std::int64_t train_size = 0;  // victim n (victim and attack jobs); reference set size (reference jobs)
  std::uint64_t seed = 0;
  std::string privacy;          // victim and attack jobs: PrivacyLevel::label ("" = non-private)
  std::string model;            // one of model.name
  std::vector<int> depends_on;  // job ids

  // Attack jobs shard their queries over all ranks, so every rank takes part in them.
  bool collective() const { return kind == JobKind::kAttack; }

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & id & kind & name & role & setting & train_size & seed & privacy & model & depends_on;
  }
};

// Job names carry the model only when the config compares several ("vae-victim-n64-s0"), so that a
// one-model sweep keeps the names (and the results folders) it always had.
std::string model_tag(const Config& config, const std::string& model);
std::string victim_run_name(std::int64_t train_size, std::uint64_t seed, const std::string& privacy = "",
                            const std::string& model_tag = "");
std::string reference_run_name(std::uint64_t seed, const std::string& model_tag = "");
// The result group of one attack variant: "<attack id>-cal" or "<attack id>-uncal".
std::string attack_group_name(const Job& attack, bool calibrated);

std::vector<Job> make_plan(const Config& config);

// Query-set size m for a training-set size n: min(n, attack.max_queries).
std::int64_t query_count(const Config& config, std::int64_t train_size);
// Hold-out size: enough non-members for the largest query set.
std::int64_t holdout_size(const Config& config);

}  // namespace ganleaks::runner
