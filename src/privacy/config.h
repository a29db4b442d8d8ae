#pragma once
// [privacy]: DP-SGD victims (SPEC §2, docs/privacy.md). Each listed ε or σ is a privacy level of the sweep.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "privacy/accountant.h"
#include "privacy/clipping.h"

namespace ganleaks {

struct PrivacyConfig {
  static constexpr std::string_view kSection = "privacy";
  std::vector<double> target_epsilons;
  std::vector<double> noise_multipliers;
  bool non_private = true;
  double max_grad_norm = 1.0;
  double sample_rate = 0;
  double delta = 0;
  bool secure_noise = false;
  std::string clipping = "book-keeping";

  bool any_dp() const { return !target_epsilons.empty() || !noise_multipliers.empty(); }

  void visit(KeyVisitor& v) {
    v.reals("target_epsilons", target_epsilons, kPositive,
            "DP victims at these ε; σ is found by the accountant for (q, T = `train.iterations` × `train.critic_steps`, δ)");
    v.reals("noise_multipliers", noise_multipliers,
            FloatRange{privacy::kMinNoiseMultiplier, privacy::kMaxNoiseMultiplier, false, false},
            "or at these σ (give at most one of the two lists); the accountant is valid from 10^-6 to 10^6");
    v.boolean("non_private", non_private, "also train victims without DP-SGD; `false` needs one of the lists");
    v.real("max_grad_norm", max_grad_norm, kPositive,
           "C: every row's gradient (over all discriminator parameters) is clipped to this L2 norm");
    v.real("sample_rate", sample_rate, kProbability, "q of Poisson sampling; 0 = `batch_size / n`");
    v.real("delta", delta, FloatRange{0.0, 1.0, false, true},
           "δ of the reported ε, at least 10^-100 (the accountant's domain); 0 = 1/n rounded down to a power of ten");
    v.boolean("secure_noise", secure_noise,
              "noise from `getrandom(2)` (not reproducible) instead of the run's seeded generator");
    v.choice("clipping", clipping, privacy::kClippingNames,
             "how each row's gradient norm and the clipped sum are computed: `book-keeping` (norms without per-row "
             "gradients where that is cheaper, Bu et al. 2023; fastest), `ghost` (no per-row gradient kept beyond "
             "a block, Bu et al. 2022; least memory) or `materialise` (every row's gradient, as Opacus); the same "
             "DP-SGD step in each mode (docs/privacy.md)");
  }
  bool operator==(const PrivacyConfig&) const = default;
};

}  // namespace ganleaks
