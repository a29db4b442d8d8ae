#pragma once
// experiment.task = "audit" (issue #20; docs/privacy.md, "Auditing"): models trained with and without canaries
// (audit/plan.h), scored on them by membership inference's attack code, and lower bounds on ε at a stated
// confidence beside the accountant's ε (audit/procedure.h, privacy/audit_bounds.h).
#include <cstdint>
#include <map>
#include <memory>

#include "audit/config.h"
#include "audit/plan.h"
#include "membership/config.h"
#include "runner/configured_task.h"

namespace ganleaks::data {
class Pool;
}
namespace ganleaks::dist {
class TensorComm;
}

namespace ganleaks::audit {

class Task final : public runner::ConfiguredTask<Config> {
 public:
  explicit Task(Config config);
  ~Task() override;

  std::vector<std::string> folders() const override;
  std::vector<runner::Job> jobs() const override { return plan_.jobs; }
  std::filesystem::path output(const runner::Layout& layout, const runner::Job& job) const override;
  std::string describe(const runner::Job& job) const override;
  runner::CostEstimate estimate(const std::vector<runner::Job>& jobs) const override;

  void start(const runner::RunContext& context) override;
  void run(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) override;

  void assemble(const runner::Layout& layout, const io::H5File& results) const override;
  std::string report(const runner::Layout& layout) const override;  // audit/report.cpp's table
  std::string headline() const override { return "Privacy audit: ε lower bounds"; }

 private:
  // One seed's records: the training set, and the canaries as rows of Records::pool.
  struct SeedRecords {
    std::vector<std::int64_t> train, canaries;
  };
  struct Records {
    std::shared_ptr<const data::Pool> pool;  // the dataset with every seed's crafted canaries appended
    std::map<std::uint64_t, SeedRecords> seeds;
  };
  static Records load_records(const Config& config);
  std::vector<std::int64_t> training_rows(const JobSpec& spec) const;
  void train(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps);
  void signals(const runner::Job& job, const runner::RunContext& context);
  void audit(const runner::Job& job, const runner::Layout& layout) const;

  membership::Config view_;  // membership_view(config_): what its training and attack code read
  Plan plan_;
  Records records_;  // from start()
  std::unique_ptr<dist::TensorComm> group_;
};

}  // namespace ganleaks::audit
