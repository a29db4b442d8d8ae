#pragma once
// experiment.task = "extraction" (Stealing GANs, Hu & Pang ACSAC 2021): a target of the zoo, the thief's queries
// and attack GANs, accuracy extraction's refinement, the owner's defenses, FID/JS evaluations (extraction/jobs.h).
#include <cstdint>
#include <map>
#include <memory>

#include "data/splits.h"
#include "extraction/config.h"
#include "extraction/plan.h"
#include "runner/configured_task.h"

namespace ganleaks::data {
class Pool;
}
namespace ganleaks::dist {
class TensorComm;
}

namespace ganleaks::extraction {

class Task final : public runner::ConfiguredTask<Config> {
 public:
  explicit Task(Config config);
  ~Task() override;

  std::vector<std::string> folders() const override;
  std::vector<runner::Job> jobs() const override { return plan_.jobs; }
  std::filesystem::path output(const runner::Layout& layout, const runner::Job& job) const override;
  runner::CostEstimate estimate(const std::vector<runner::Job>& jobs) const override;  // extraction/estimate.cpp

  void start(const runner::RunContext& context) override;
  void run(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) override;

  void assemble(const runner::Layout& layout, const io::H5File& results) const override;
  std::string report(const runner::Layout& layout) const override;  // extraction/report.cpp
  std::string headline() const override { return "Model extraction"; }

 private:
  const data::ExtractionSplits& splits(std::uint64_t seed);
  void train(const Job& job, const runner::RunContext& context, const std::function<void()>& between_steps);

  Plan plan_;
  std::shared_ptr<const data::Pool> pool_;                      // from start()
  std::unique_ptr<dist::TensorComm> group_;                     // this rank's training group, from start()
  std::map<std::uint64_t, data::ExtractionSplits> splits_;      // by seed, identical on every rank
};

// The target's training set and the transfer domain of one seed (data/splits.h).
data::ExtractionSplits make_extraction_splits(const Config& config, const data::Pool& pool, std::uint64_t seed);

}  // namespace ganleaks::extraction
