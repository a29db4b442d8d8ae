#include "privacy/accountant.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/log_space.h"

namespace ganleaks::privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr long kMaxSeriesTerms = 100'000;  // a bound on the fractional orders' series (log_a_fractional)

// log(exp(a) - exp(b)) for a >= b.
double log_sub(double a, double b) {
  if (b == -kInf) return a;
  if (a <= b) return -kInf;
  return b + std::log(std::expm1(a - b));
}

// log erfc(x), accurate where erfc underflows (x > ~26): the asymptotic series of erfc.
double log_erfc(double x) {
  if (x < 25.0) return std::log(std::erfc(x));
  const double x2 = x * x;
  return -x2 - std::log(x) - 0.5 * std::log(M_PI) + std::log1p(-1.0 / (2 * x2) + 3.0 / (4 * x2 * x2));
}

// log |binom(alpha, i)| and its sign, for real alpha (the generalised binomial coefficient).
double log_abs_binomial(double alpha, double i, int& sign) {
  sign = 1;
  int s = 0;
  // binom(alpha, i) = Gamma(alpha+1) / (Gamma(i+1) Gamma(alpha-i+1)); only the last Gamma can be negative
  // (alpha - i + 1 < 0 for i > alpha + 1).
  const double a = std::lgamma(alpha + 1);
  const double b = std::lgamma(i + 1);
  const double c = lgamma_r(alpha - i + 1, &s);
  sign = s;
  return a - b - c;
}

// log A_alpha for integer alpha: sum_i binom(a,i) q^i (1-q)^(a-i) exp((i^2 - i) / (2 sigma^2)).
double log_a_integer(double q, double sigma, long alpha) {
  double log_a = -kInf;
  for (long i = 0; i <= alpha; ++i) {
    int sign = 1;
    const double log_coef = log_abs_binomial(static_cast<double>(alpha), static_cast<double>(i), sign) +
                            i * std::log(q) + (alpha - i) * std::log1p(-q);
    log_a = log_add_exp(log_a, log_coef + static_cast<double>(i * i - i) / (2 * sigma * sigma));
  }
  return log_a;
}

// log A_alpha for fractional alpha: the two series of Mironov et al. Sec. 3.3, summed until both terms fall
// below e^-30 (the stopping rule of the reference implementations, so that values agree to 1e-6).
double log_a_fractional(double q, double sigma, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = sigma * sigma * std::log(1 / q - 1) + 0.5;
  for (long i = 0;; ++i) {
    // Within the documented domain (kMinNoiseMultiplier) the terms fall below e^-30 within a few hundred terms; a
    // series that has not by then diverges, and the order gives no bound.
    if (i > kMaxSeriesTerms) return kInf;
    int sign = 1;
    const double log_coef = log_abs_binomial(alpha, static_cast<double>(i), sign);
    const double j = alpha - static_cast<double>(i);
    const double log_t0 = log_coef + i * std::log(q) + j * std::log1p(-q);
    const double log_t1 = log_coef + j * std::log(q) + i * std::log1p(-q);
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / (std::sqrt(2.0) * sigma));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (std::sqrt(2.0) * sigma));
    const double log_s0 = log_t0 + (static_cast<double>(i) * i - i) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * sigma * sigma) + log_e1;
    if (sign > 0) {
      log_a0 = log_add_exp(log_a0, log_s0);
      log_a1 = log_add_exp(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
  }
  return log_add_exp(log_a0, log_a1);
}

std::string number(double v) { return fmt::format("{}", v); }  // shortest round-trip form, never 300 digits

void check_rate_and_noise(double q, double sigma) {
  if (!(q >= 0 && q <= 1)) throw std::invalid_argument("sample rate " + number(q) + " is not in [0, 1]");
  if (!(sigma == 0 || (sigma >= kMinNoiseMultiplier && sigma <= kMaxNoiseMultiplier))) {
    throw std::invalid_argument(fmt::format("noise multiplier {} is outside [{}, {}] (or 0), where the accountant is valid",
                                            number(sigma), kMinNoiseMultiplier, kMaxNoiseMultiplier));
  }
}

}  // namespace

std::vector<double> default_orders() {
  std::vector<double> orders;
  for (int x = 1; x < 100; ++x) orders.push_back(1 + x / 10.0);
  for (int a = 12; a < 64; ++a) orders.push_back(a);
  return orders;
}

double rdp_sampled_gaussian(double q, double sigma, double alpha) {
  check_rate_and_noise(q, sigma);
  if (!(alpha > 1)) throw std::invalid_argument("RDP order " + number(alpha) + " must be > 1");
  if (q == 0) return 0;
  if (sigma == 0) return kInf;
  if (q == 1) return alpha / (2 * sigma * sigma);  // the plain Gaussian mechanism
  if (std::isinf(alpha)) return kInf;
  const double log_a = alpha == std::floor(alpha) ? log_a_integer(q, sigma, static_cast<long>(alpha))
                                                  : log_a_fractional(q, sigma, alpha);
  return log_a / (alpha - 1);
}

std::vector<double> rdp(double q, double sigma, long steps, std::span<const double> orders) {
  if (steps < 0) throw std::invalid_argument("steps must be >= 0");
  std::vector<double> out;
  for (const double a : orders) out.push_back(rdp_sampled_gaussian(q, sigma, a) * static_cast<double>(steps));
  return out;
}

Spent epsilon(std::span<const double> orders, std::span<const double> rdp_values, double delta, Conversion conversion) {
  if (orders.size() != rdp_values.size() || orders.empty()) {
    throw std::invalid_argument("epsilon: need one RDP value per order");
  }
  if (!(delta >= kMinDelta && delta < 1)) {
    throw std::invalid_argument(fmt::format("delta {} is outside [{}, 1)", number(delta), kMinDelta));
  }
  Spent best{kInf, std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t k = 0; k < orders.size(); ++k) {
    const double a = orders[k];
    const double eps = conversion == Conversion::kBalle2020
                           ? rdp_values[k] + std::log((a - 1) / a) - (std::log(delta) + std::log(a)) / (a - 1)
                           : rdp_values[k] - std::log(delta) / (a - 1);
    if (!std::isnan(eps) && eps < best.epsilon) best = {eps, a};
  }
  // The conversion's bound can fall below 0 (huge σ, large δ); ε is never negative (Opacus clamps likewise).
  best.epsilon = std::max(best.epsilon, 0.0);
  return best;
}

Spent epsilon(double q, double sigma, long steps, double delta) {
  const auto orders = default_orders();
  return epsilon(orders, rdp(q, sigma, steps, orders), delta);
}

double noise_multiplier_for(double target, double q, long steps, double delta) {
  if (!(target > 0)) throw std::invalid_argument("target epsilon must be > 0");
  check_rate_and_noise(q, 1.0);
  auto eps = [&](double sigma) { return epsilon(q, sigma, steps, delta).epsilon; };
  // ε(σ) falls as σ grows. Bracket [lo, hi] with ε(hi) ≤ target < ε(lo), then bisect: both loops are bounded
  // (log2 of the domain's span, and 1e-9 relative precision).
  double lo = kMinNoiseMultiplier, hi = 1;
  while (eps(hi) > target) {
    lo = hi;
    hi *= 2;
    if (hi > kMaxNoiseMultiplier) {
      throw std::invalid_argument(fmt::format("no noise multiplier up to {} reaches epsilon {}", kMaxNoiseMultiplier,
                                              number(target)));
    }
  }
  if (eps(lo) <= target) return lo;  // even the least noise the accountant covers is enough
  while (hi - lo > 1e-9 * hi) {
    const double mid = 0.5 * (lo + hi);
    (eps(mid) > target ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace ganleaks::privacy
