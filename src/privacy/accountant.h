#pragma once
// Privacy accounting for DP-SGD (SPEC §2): Rényi DP of the sampled Gaussian mechanism (Mironov, Talwar,
// Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism") composed over steps, and its
// conversion to (ε, δ)-DP (Balle et al. 2020, "Hypothesis testing interpretations and Rényi DP", Thm. 21),
// minimised over the orders. The default orders are Opacus's, so that numbers compare with it.
#include <span>
#include <vector>

namespace ganleaks::privacy {

// The domain the accountant is valid on (and bounded in time): σ in [kMinNoiseMultiplier, kMaxNoiseMultiplier]
// (or 0: no noise, ε = ∞), q in [0, 1], δ in [kMinDelta, 1). Below σ = 1e-6 the fractional orders' series would
// need more terms than are summed (and σ² underflows near 1e-154); the ε there is astronomically large anyway.
inline constexpr double kMinNoiseMultiplier = 1e-6;
inline constexpr double kMaxNoiseMultiplier = 1e6;
inline constexpr double kMinDelta = 1e-100;

// 1 + x/10 for x = 1..99, then 12..63.
std::vector<double> default_orders();

// RDP ε_α of one step of the sampled Gaussian mechanism: each record joins the batch with probability
// `sample_rate`, Gaussian noise with standard deviation noise_multiplier × (clipping norm). Integer orders
// use the exact binomial expansion; fractional orders the two-sided series of Mironov et al. (Sec. 3.3).
double rdp_sampled_gaussian(double sample_rate, double noise_multiplier, double order);

// RDP of `steps` compositions, one value per order.
std::vector<double> rdp(double sample_rate, double noise_multiplier, long steps, std::span<const double> orders);

enum class Conversion {
  kBalle2020,    // ε = RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1)   (SPEC §2, Opacus ≥ 1.0)
  kMironov2017,  // ε = RDP(α) − log δ / (α−1)                           (the original, looser)
};

struct Spent {
  double epsilon;
  double order;  // the order that gave the smallest ε
};

Spent epsilon(std::span<const double> orders, std::span<const double> rdp_values, double delta,
              Conversion conversion = Conversion::kBalle2020);

// ε after `steps` steps at the default orders.
Spent epsilon(double sample_rate, double noise_multiplier, long steps, double delta);

// The smallest noise multiplier whose ε after `steps` steps is at most target_epsilon (bisection, relative
// precision 1e-9 in σ; kMinNoiseMultiplier when even that is enough). Throws std::invalid_argument when no σ up to
// kMaxNoiseMultiplier reaches the target.
double noise_multiplier_for(double target_epsilon, double sample_rate, long steps, double delta);

}  // namespace ganleaks::privacy
