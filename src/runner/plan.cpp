#include "runner/plan.h"

#include <fmt/format.h>

#include <algorithm>

namespace ganleaks::runner {

std::string victim_run_name(std::int64_t train_size, std::uint64_t seed) {
  return fmt::format("victim-n{}-s{}", train_size, seed);
}
std::string reference_run_name(std::uint64_t seed) { return fmt::format("reference-s{}", seed); }
std::string attack_group_name(const Job& attack, bool calibrated) {
  return attack.name + (calibrated ? "-cal" : "-uncal");
}

std::int64_t query_count(const Config& config, std::int64_t train_size) {
  return std::min(train_size, config.attack.max_queries);
}

std::int64_t holdout_size(const Config& config) {
  return query_count(config, config.sweep.train_sizes.back());  // train_sizes is sorted ascending
}

std::vector<Job> make_plan(const Config& config) {
  std::vector<Job> jobs;
  const bool needs_reference =
      std::find(config.attack.calibrated.begin(), config.attack.calibrated.end(), true) !=
      config.attack.calibrated.end();
  auto add = [&](Job job) {
    job.id = static_cast<int>(jobs.size());
    jobs.push_back(std::move(job));
    return jobs.back().id;
  };
  for (const auto seed : config.experiment.seeds) {
    int reference = -1;
    if (needs_reference) {
      reference = add({.kind = JobKind::kTrain, .name = reference_run_name(seed), .role = "reference",
                       .train_size = config.data.reference_size, .seed = seed});
    }
    for (const auto n : config.sweep.train_sizes) {
      const int victim = add({.kind = JobKind::kTrain, .name = victim_run_name(n, seed), .role = "victim",
                              .train_size = n, .seed = seed});
      for (const auto& setting : config.attack.settings) {
        Job attack{.kind = JobKind::kAttack, .name = fmt::format("{}-n{}-s{}", setting, n, seed),
                   .setting = setting, .train_size = n, .seed = seed, .depends_on = {victim}};
        if (reference >= 0) attack.depends_on.push_back(reference);
        add(std::move(attack));
      }
    }
  }
  return jobs;
}

}  // namespace ganleaks::runner
