#pragma once
// A task planted for the runner's tests, without LibTorch: what the runner does with any task — plan, hashes,
// resume, slices, the coordinator, failures, signals, results.h5 and the report — exercised on real MPI ranks in
// seconds. Per (size, seed) a one-rank "count" job (a seeded sum over `steps` steps, resumable from a checkpoint:
// the stand-in for training) and a collective "gather" job (each rank sums its blocks, rank 0 writes them in
// block order: the stand-in for an attack) that needs it and a shared "base" job per seed.
#include <cstdint>
#include <string>
#include <vector>

#include "runner/config.h"
#include "runner/configured_task.h"

namespace ganleaks::planted {

struct PlantedConfig {
  static constexpr std::string_view kSection = "planted";
  std::vector<std::int64_t> sizes{2, 3};
  std::int64_t steps = 50;
  std::int64_t blocks = 7;       // of a gather job, spread over the ranks
  double step_seconds = 0;       // sleep per step, so that a test can signal a job while it runs
  std::string fail_job;          // a job that throws (a failure test), "" for none

  void visit(KeyVisitor& v) {
    v.integers("sizes", sizes, {1, 1000}, "one count job and one gather job per size and seed");
    v.integer("steps", steps, {1, 1'000'000}, "steps of a count job");
    v.integer("blocks", blocks, {1, 1000}, "blocks of a gather job");
    v.real("step_seconds", step_seconds, FloatRange{0, 10, false, false}, "sleep per step");
    v.text("fail_job", fail_job, kAnyText, "a job that fails");
  }
  bool operator==(const PlantedConfig&) const = default;
};

struct Config {
  ExperimentConfig experiment{.task = "planted"};
  PlantedConfig planted;
  std::string source;
  void visit(KeyVisitor& v) {
    v.section(experiment);
    v.section(planted);
  }
  bool operator==(const Config&) const = default;
};

Config parse_config(std::string_view text, std::string_view source);

class Task final : public runner::ConfiguredTask<Config> {
 public:
  explicit Task(Config config);

  std::vector<std::string> folders() const override { return {"runs", "gathers"}; }
  std::vector<runner::Job> jobs() const override { return jobs_; }
  std::filesystem::path output(const runner::Layout& layout, const runner::Job& job) const override;
  std::string describe(const runner::Job& job) const override;
  runner::CostEstimate estimate(const std::vector<runner::Job>& jobs) const override;
  void start(const runner::RunContext& context) override;
  void run(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) override;
  void assemble(const runner::Layout& layout, const io::H5File& results) const override;
  std::string report(const runner::Layout& layout) const override;
  std::string headline() const override { return "Planted sums"; }

 private:
  struct Spec {
    std::int64_t size = 0;
    std::uint64_t seed = 0;
  };
  void count(const runner::Job& job, const Spec& spec, const runner::RunContext& context,
             const std::function<void()>& between_steps) const;
  void gather(const runner::Job& job, const Spec& spec, const runner::RunContext& context) const;

  std::vector<runner::Job> jobs_;
  std::vector<Spec> specs_;
};

}  // namespace ganleaks::planted
