#include "privacy/audit_bounds.h"

#include "metrics/normal.h"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ganleaks::privacy {
namespace {

void check_level(double delta, double confidence) {
  if (!(delta >= 0 && delta < 1)) throw std::invalid_argument(fmt::format("delta must be in [0, 1), got {}", delta));
  if (!(confidence > 0 && confidence < 1)) {
    throw std::invalid_argument(fmt::format("confidence must be in (0, 1), got {}", confidence));
  }
}

// The largest x in [0, hi] with predicate(x) true, for a predicate true at 0 and false from some point on.
template <class Predicate>
double largest_where(Predicate predicate, double hi) {
  double lo = 0;
  while (predicate(hi) && hi < 1e6) lo = hi, hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    (predicate(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace

double clopper_pearson_upper(std::int64_t errors, std::int64_t trials, double confidence) {
  if (trials < 1 || errors < 0 || errors > trials) {
    throw std::invalid_argument(fmt::format("need 0 <= errors <= trials and trials >= 1, got {} of {}", errors, trials));
  }
  check_level(0, confidence);
  if (errors == trials) return 1;
  const boost::math::beta_distribution<double> beta(static_cast<double>(errors + 1), static_cast<double>(trials - errors));
  return boost::math::quantile(beta, 1 - (1 - confidence) / 2);
}

double epsilon_lower_bound(const MultiRunAudit& a) {
  check_level(a.delta, a.confidence);
  const double fpr = clopper_pearson_upper(a.false_positives, a.trials, a.confidence);
  const double fnr = clopper_pearson_upper(a.false_negatives, a.trials, a.confidence);
  const auto bound = [&](double x, double y) { return x > 0 && 1 - a.delta - y > 0 ? std::log((1 - a.delta - y) / x) : 0.0; };
  return std::max({0.0, bound(fnr, fpr), bound(fpr, fnr)});
}

double gdp_mu_lower_bound(const MultiRunAudit& a) {
  check_level(a.delta, a.confidence);
  const boost::math::normal normal;
  const double fpr = clopper_pearson_upper(a.false_positives, a.trials, a.confidence);
  const double fnr = clopper_pearson_upper(a.false_negatives, a.trials, a.confidence);
  if (fpr >= 1 || fnr >= 1) return 0;
  return std::max(0.0, boost::math::quantile(normal, 1 - fpr) - boost::math::quantile(normal, fnr));
}

double gdp_epsilon(double mu, double delta) {
  check_level(delta, 0.5);
  if (mu <= 0) return 0;
  if (delta == 0) return std::numeric_limits<double>::infinity();  // μ-GDP with μ > 0 is (ε, 0)-DP for no ε
  const boost::math::normal normal;
  const auto delta_at = [&](double eps) {  // the second term in log space: e^ε overflows before Φ underflows
    return boost::math::cdf(normal, -eps / mu + mu / 2) - std::exp(eps + metrics::log_normal_cdf(-eps / mu - mu / 2));
  };
  if (delta_at(0) <= delta) return 0;
  return largest_where([&](double eps) { return delta_at(eps) > delta; }, 1.0);  // δ(ε) falls with ε
}

double one_run_p_value(const OneRunAudit& a, double epsilon) {
  check_level(a.delta, a.confidence);
  if (!(0 <= a.correct && a.correct <= a.guesses && a.guesses <= a.canaries)) {
    throw std::invalid_argument(fmt::format("need 0 <= correct <= guesses <= canaries, got {}, {}, {}", a.correct,
                                            a.guesses, a.canaries));
  }
  if (a.guesses == 0) return 1;
  const double q = 1 / (1 + std::exp(-epsilon));  // the accuracy of ε-DP randomised response
  const boost::math::binomial binomial(static_cast<double>(a.guesses), q);
  const auto at_least = [&](std::int64_t v) {
    return v <= 0 ? 1.0 : boost::math::cdf(boost::math::complement(binomial, static_cast<double>(v - 1)));
  };
  double p = at_least(a.correct);
  if (a.delta > 0) {
    // P[v > B ≥ v − i], and its largest ratio to i; the probabilities from log-gamma, cheaper than Boost's pdf.
    const auto r = static_cast<double>(a.guesses);
    const auto log_pmf = [&](double k) {
      return std::lgamma(r + 1) - std::lgamma(k + 1) - std::lgamma(r - k + 1) + k * std::log(q) + (r - k) * std::log1p(-q);
    };
    double below = 0, worst = 0;
    for (std::int64_t i = 1; i <= a.correct; ++i) {
      below += std::exp(log_pmf(static_cast<double>(a.correct - i)));
      worst = std::max(worst, below / static_cast<double>(i));
    }
    p += 2 * static_cast<double>(a.canaries) * a.delta * worst;
  }
  return std::min(p, 1.0);
}

double epsilon_lower_bound(const OneRunAudit& a) {
  const double significance = 1 - a.confidence;
  if (one_run_p_value(a, 0) >= significance) return 0;
  return largest_where([&](double eps) { return one_run_p_value(a, eps) < significance; }, 1.0);
}

}  // namespace ganleaks::privacy
