#pragma once
// The privacy levels of a sweep ([privacy]) and what DP-SGD needs for one victim, resolved once (SPEC §2).
#include <cstdint>
#include <string>
#include <vector>

#include "privacy/config.h"

namespace ganleaks::privacy {

// Non-private, or DP-SGD at a target ε or at a noise multiplier σ.
struct PrivacyLevel {
  std::string label;            // "" (non-private), "eps3", "sigma0.8": the suffix of job names
  double target_epsilon = 0;    // > 0: σ is found by the accountant
  double noise_multiplier = 0;  // > 0: σ given
  bool dp() const { return !label.empty(); }
  std::string display() const;  // "non-private", "DP ε=3", "DP σ=0.8"
};

// Non-private first (if non_private), then the listed ε or σ in config order.
std::vector<PrivacyLevel> privacy_levels(const PrivacyConfig& config);

struct DpSettings {
  double noise_multiplier = 0;  // σ
  double sample_rate = 0;       // q (privacy.sample_rate, else batch_size / n, at most 1)
  std::int64_t records = 0;     // N, the dataset size the guarantee is computed for
  double delta = 0;             // privacy.delta, else 1/n rounded down to a power of ten
  double max_grad_norm = 0;     // C
  std::int64_t steps = 0;       // discriminator steps
  double epsilon = 0;           // spent after `steps` (accountant)
  double order = 0;             // the RDP order that gave it
};
// One line for `ganleaks plan`: "DP-SGD σ = 1.2, q = 0.5, 4000 steps: ε = 10 at δ = 1e-05".
std::string describe(const DpSettings& dp);

// δ for a model of `train_size` records: privacy.delta, else 1/n rounded down to a power of ten.
double delta_for(const PrivacyConfig& config, std::int64_t train_size);

// For a victim of `train_size` records trained for `steps` discriminator steps at batches of `batch_size`.
DpSettings dp_settings(const PrivacyConfig& config, const PrivacyLevel& level, std::int64_t steps, int batch_size,
                       std::int64_t train_size);

}  // namespace ganleaks::privacy
