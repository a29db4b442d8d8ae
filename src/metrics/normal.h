#pragma once
// log Φ(z), Φ the standard normal CDF, accurate to rounding from −∞ to +∞ (as scipy.special.log_ndtr): LiRA's
// offline score (attacks/shadow_scores.h) and Gaussian DP's δ(ε) (privacy/audit_bounds.h) need it where Φ itself
// underflows.
#include <cmath>
#include <numbers>

namespace ganleaks::metrics {

inline double log_normal_cdf(double z) {
  // Above 0, log1p of the upper tail (Φ near 1); down to about z = −37, where Φ(z) nears the smallest normal
  // double, erfc at full relative precision; below, the asymptotic series of the Mills ratio.
  if (z > 0) return std::log1p(-0.5 * std::erfc(z / std::numbers::sqrt2));
  if (z > -37) return std::log(0.5 * std::erfc(-z / std::numbers::sqrt2));
  const double r = 1 / (z * z);
  const double series = 1 - r * (1 - 3 * r * (1 - 5 * r * (1 - 7 * r * (1 - 9 * r))));
  return -0.5 * z * z - std::log(-z) - 0.5 * std::log(2 * std::numbers::pi) + std::log(series);
}

}  // namespace ganleaks::metrics
