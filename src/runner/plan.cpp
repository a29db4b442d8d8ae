#include "runner/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "privacy/accountant.h"

namespace ganleaks::runner {

namespace {
std::string with_privacy(std::string name, const std::string& privacy) {
  return privacy.empty() ? name : name + "-" + privacy;
}
std::string with_model(std::string name, const std::string& tag) { return tag.empty() ? name : tag + "-" + name; }
}  // namespace

std::string PrivacyLevel::display() const {
  if (!dp()) return "non-private";
  return target_epsilon > 0 ? fmt::format("DP ε={}", target_epsilon) : fmt::format("DP σ={}", noise_multiplier);
}

std::vector<PrivacyLevel> privacy_levels(const Config& config) {
  std::vector<PrivacyLevel> levels;
  if (config.privacy.non_private) levels.push_back({});
  for (double e : config.privacy.target_epsilons) levels.push_back({.label = fmt::format("eps{}", e), .target_epsilon = e});
  for (double s : config.privacy.noise_multipliers) levels.push_back({.label = fmt::format("sigma{}", s), .noise_multiplier = s});
  return levels;
}

PrivacyLevel privacy_level(const Config& config, const std::string& label) {
  for (auto& level : privacy_levels(config)) {
    if (level.label == label) return level;
  }
  throw std::invalid_argument(fmt::format("no privacy level '{}' in this config", label));
}

DpSettings dp_settings(const Config& config, const PrivacyLevel& level, std::int64_t train_size) {
  if (!level.dp()) throw std::invalid_argument("dp_settings: a non-private level");
  DpSettings s;
  s.max_grad_norm = config.privacy.max_grad_norm;
  s.steps = config.train.iterations * config.train.critic_steps;  // every discriminator update is a DP step
  s.sample_rate = config.privacy.sample_rate > 0
                      ? config.privacy.sample_rate
                      : std::min(1.0, static_cast<double>(config.train.batch_size) / static_cast<double>(train_size));
  if (config.privacy.delta > 0) {
    s.delta = config.privacy.delta;
  } else {
    std::int64_t power = 1;  // the smallest power of ten >= n, exactly
    while (power < train_size) power *= 10;
    s.delta = 1.0 / static_cast<double>(power);
  }
  s.noise_multiplier = level.noise_multiplier > 0
                           ? level.noise_multiplier
                           : privacy::noise_multiplier_for(level.target_epsilon, s.sample_rate, s.steps, s.delta);
  const auto spent = privacy::epsilon(s.sample_rate, s.noise_multiplier, s.steps, s.delta);
  s.epsilon = spent.epsilon;
  s.order = spent.order;
  return s;
}

std::string model_tag(const Config& config, const std::string& model) {
  return config.model.names.size() > 1 ? model : "";
}
std::string victim_run_name(std::int64_t train_size, std::uint64_t seed, const std::string& privacy,
                            const std::string& model_tag) {
  return with_model(with_privacy(fmt::format("victim-n{}-s{}", train_size, seed), privacy), model_tag);
}
std::string reference_run_name(std::uint64_t seed, const std::string& model_tag) {
  return with_model(fmt::format("reference-s{}", seed), model_tag);
}
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
  for (const auto& model : config.model.names) {
    const auto tag = model_tag(config, model);
    for (const auto seed : config.experiment.seeds) {
      int reference = -1;
      if (needs_reference) {
        reference = add({.kind = JobKind::kTrain, .name = reference_run_name(seed, tag), .role = "reference",
                         .train_size = config.data.reference_size, .seed = seed, .model = model});
      }
      for (const auto& level : privacy_levels(config)) {
        for (const auto n : config.sweep.train_sizes) {
          const int victim = add({.kind = JobKind::kTrain, .name = victim_run_name(n, seed, level.label, tag),
                                  .role = "victim", .train_size = n, .seed = seed, .privacy = level.label, .model = model});
          for (const auto& setting : config.attack.settings) {
            Job attack{.kind = JobKind::kAttack,
                       .name = with_model(with_privacy(fmt::format("{}-n{}-s{}", setting, n, seed), level.label), tag),
                       .setting = setting, .train_size = n, .seed = seed, .privacy = level.label, .model = model,
                       .depends_on = {victim}};
            if (reference >= 0) attack.depends_on.push_back(reference);
            add(std::move(attack));
          }
        }
      }
    }
  }
  return jobs;
}

}  // namespace ganleaks::runner
