#pragma once
// experiment.task = "membership": victims and reference models trained per (model, privacy level, size, seed),
// attacked in every setting of [attack] (membership/attack_job.h), reported as AUC and TPR at low FPR.
#include <cstdint>
#include <map>
#include <memory>

#include "data/splits.h"
#include "membership/config.h"
#include "membership/plan.h"
#include "runner/configured_task.h"
#include "train/unit_costs.h"

namespace ganleaks::data {
class Pool;
}
namespace ganleaks::dist {
class TensorComm;
}

namespace ganleaks::membership {

class Task final : public runner::ConfiguredTask<Config> {
 public:
  explicit Task(Config config);
  ~Task() override;

  std::vector<std::string> folders() const override;
  std::vector<runner::Job> jobs() const override { return plan_.jobs; }
  std::filesystem::path output(const runner::Layout& layout, const runner::Job& job) const override;
  std::string describe(const runner::Job& job) const override;
  runner::CostEstimate estimate(const std::vector<runner::Job>& jobs) const override;  // membership/estimate.cpp

  void start(const runner::RunContext& context) override;
  void run(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) override;

  void assemble(const runner::Layout& layout, const io::H5File& results) const override;
  std::string report(const runner::Layout& layout) const override;  // membership/report.cpp
  std::string headline() const override { return "Membership-inference AUC"; }
  std::string resolved_config() const override;  // [[variant]] tables included

 private:
  const data::SeedSplits& splits(std::uint64_t seed);
  const Config& config_of(const JobSpec& spec) const { return arms_[spec.arm].config; }
  void train(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps);

  std::vector<Arm> arms_;  // arms(config_): what each job's JobSpec::arm indexes
  Plan plan_;
  std::shared_ptr<const data::Pool> pool_;            // from start()
  std::unique_ptr<dist::TensorComm> group_;           // this rank's training group, from start()
  std::map<std::uint64_t, data::SeedSplits> splits_;  // by seed, identical on every rank
};

// For the cost estimates of `ganleaks plan` (membership/estimate.cpp): a DP-SGD discriminator step's cost over a
// plain one's (bench/: 1.7–2.5×), and one record's shape as the models take it ({1, 32, 32} for images).
inline constexpr double kDpStepCost = 2.5;
std::vector<std::int64_t> sample_shape(const DataConfig& data);
// The nearest-sample search's seconds per (query, generated sample) pair on this process's CPU, timed now.
double search_pair_seconds(const std::vector<std::int64_t>& shape);
// Seconds to score `queries` rows with `setting` on one trained model whose units are `u`: its k generated samples
// where the setting reads them, the search over them, the latent searches, the network evaluations. Membership
// attacks and signal jobs and the audit's signal jobs all count with it.
double scoring_seconds(const AttackConfig& attack, const ModelConfig& model, std::string_view setting, double queries,
                       const train::ModelCost& u, double search_pair);

// The split of one seed under data.member_selection (data/splits.h): victims' training pool, hold-out, reference.
data::SeedSplits make_seed_splits(const Config& config, const data::Pool& pool, std::uint64_t seed);

}  // namespace ganleaks::membership
