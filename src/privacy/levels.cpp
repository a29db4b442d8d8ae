#include "privacy/levels.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "privacy/accountant.h"

namespace ganleaks::privacy {

std::string PrivacyLevel::display() const {
  if (!dp()) return "non-private";
  return target_epsilon > 0 ? fmt::format("DP ε={}", target_epsilon) : fmt::format("DP σ={}", noise_multiplier);
}

std::vector<PrivacyLevel> privacy_levels(const PrivacyConfig& config) {
  std::vector<PrivacyLevel> levels;
  if (config.non_private) levels.push_back({});
  for (double e : config.target_epsilons) levels.push_back({.label = fmt::format("eps{}", e), .target_epsilon = e});
  for (double s : config.noise_multipliers) levels.push_back({.label = fmt::format("sigma{}", s), .noise_multiplier = s});
  return levels;
}

std::string describe(const DpSettings& dp) {
  return fmt::format("DP-SGD σ = {:.3g}, q = {:.3g}, {} steps: ε = {:.3g} at δ = {:g}", dp.noise_multiplier,
                     dp.sample_rate, dp.steps, dp.epsilon, dp.delta);
}

double delta_for(const PrivacyConfig& config, std::int64_t train_size) {
  if (config.delta > 0) return config.delta;
  std::int64_t power = 1;  // the smallest power of ten >= n, exactly
  while (power < train_size) power *= 10;
  return 1.0 / static_cast<double>(power);
}

DpSettings dp_settings(const PrivacyConfig& config, const PrivacyLevel& level, std::int64_t steps, int batch_size,
                       std::int64_t train_size) {
  if (!level.dp()) throw std::invalid_argument("dp_settings: a non-private level");
  DpSettings s;
  s.max_grad_norm = config.max_grad_norm;
  s.steps = steps;
  s.records = train_size;
  s.sample_rate = config.sample_rate > 0
                      ? config.sample_rate
                      : std::min(1.0, static_cast<double>(batch_size) / static_cast<double>(train_size));
  s.delta = delta_for(config, train_size);
  s.noise_multiplier = level.noise_multiplier > 0 ? level.noise_multiplier
                                                  : noise_multiplier_for(level.target_epsilon, s.sample_rate, s.steps, s.delta);
  const auto spent = epsilon(s.sample_rate, s.noise_multiplier, s.steps, s.delta);
  s.epsilon = spent.epsilon;
  s.order = spent.order;
  return s;
}

}  // namespace ganleaks::privacy
