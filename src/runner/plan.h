#pragma once
// The sweep as a job graph: every (seed) trains one reference model, every (train size, seed) one
// victim, and every (attack setting, train size, seed) one attack that needs both. Job names are
// deterministic and name the job's output, which is how a rerun knows what is already done.
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace ganleaks::runner {

enum class JobKind : int { kTrain = 0, kAttack = 1 };

struct Job {
  int id = -1;
  JobKind kind = JobKind::kTrain;
  std::string name;             // run id ("victim-n64-s0") or attack id ("fbb-n64-s0")
  std::string role;             // train jobs: "victim" or "reference"
  std::string setting;          // attack jobs: "fbb", "dis", ...
  std::int64_t train_size = 0;  // victim n (victim and attack jobs); reference set size (reference jobs)
  std::uint64_t seed = 0;
  std::vector<int> depends_on;  // job ids

  // Attack jobs shard their queries over all ranks, so every rank takes part in them.
  bool collective() const { return kind == JobKind::kAttack; }

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & id & kind & name & role & setting & train_size & seed & depends_on;
  }
};

std::string victim_run_name(std::int64_t train_size, std::uint64_t seed);
std::string reference_run_name(std::uint64_t seed);
// The result group of one attack variant: "<attack id>-cal" or "<attack id>-uncal".
std::string attack_group_name(const Job& attack, bool calibrated);

std::vector<Job> make_plan(const Config& config);

// Query-set size m for a training-set size n: min(n, attack.max_queries).
std::int64_t query_count(const Config& config, std::int64_t train_size);
// Hold-out size: enough non-members for the largest query set.
std::int64_t holdout_size(const Config& config);

}  // namespace ganleaks::runner
