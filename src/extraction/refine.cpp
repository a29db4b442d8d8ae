#include "extraction/refine.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "extraction/checks.h"

namespace ganleaks::extraction {
namespace {

using detail::fail;
using detail::number;

double logit(double p) { return std::log(p) - std::log1p(-p); }

// log(1 - e^x) for x < 0 (Mächler 2012, "Accurately computing log(1 - exp(-|a|))").
double log1mexp(double x) {
  return x > -std::numbers::ln2 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

double sigmoid(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

void check_uniforms(const char* where, const char* name, std::span<const double> uniforms) {
  for (std::size_t i = 0; i < uniforms.size(); ++i) {
    if (!(uniforms[i] >= 0.0 && uniforms[i] <= 1.0)) {
      fail(where, std::string(name) + "[" + std::to_string(i) + "] is " + number(uniforms[i]) + ", not in [0, 1]");
    }
  }
}

// numpy.percentile's default ("linear", Hyndman & Fan type 7) of `values`, which it sorts.
double quantile_linear(std::vector<double>& values, double q) {
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  if (below + 1 >= values.size()) return values.back();
  const double fraction = position - static_cast<double>(below);
  return values[below] + fraction * (values[below + 1] - values[below]);
}

}  // namespace

// ----- MH --------------------------------------------------------------------------------------------------

double clamp_probability(double p) {
  if (!(p >= 0.0 && p <= 1.0)) fail("clamp_probability", "probability " + number(p) + " is not in [0, 1]");
  return std::clamp(p, kProbabilityEpsilon, 1.0 - kProbabilityEpsilon);
}

double mh_log_acceptance(double current_probability, double proposal_probability) {
  return std::min(0.0, logit(clamp_probability(proposal_probability)) - logit(clamp_probability(current_probability)));
}

MhChain mh_independence_chain(double start_probability, std::span<const double> proposal_probabilities,
                              std::span<const double> uniforms, std::span<const double> restart_uniforms) {
  constexpr const char* kWhere = "mh_independence_chain";
  const std::size_t k = proposal_probabilities.size();
  if (k == 0) fail(kWhere, "no proposals");
  if (uniforms.size() != k) {
    fail(kWhere, std::to_string(k) + " proposals but " + std::to_string(uniforms.size()) + " uniforms");
  }
  if (!restart_uniforms.empty() && restart_uniforms.size() != k - 1) {
    fail(kWhere, std::to_string(k) + " proposals need " + std::to_string(k - 1) + " restart uniforms, not " +
                     std::to_string(restart_uniforms.size()));
  }
  check_uniforms(kWhere, "uniforms", uniforms);
  check_uniforms(kWhere, "restart_uniforms", restart_uniforms);
  if (!(start_probability >= 0.0 && start_probability <= 1.0)) {
    fail(kWhere, "start probability " + number(start_probability) + " is not in [0, 1]");
  }
  std::vector<double> log_odds(k);
  for (std::size_t i = 0; i < k; ++i) {
    const double p = proposal_probabilities[i];
    if (!(p >= 0.0 && p <= 1.0)) {
      fail(kWhere, "proposal probability " + std::to_string(i) + " is " + number(p) + ", not in [0, 1]");
    }
    log_odds[i] = logit(clamp_probability(p));
  }

  // u <= α = min(1, e^Δ) is log u <= Δ, since log u <= 0 for u in [0, 1] (and log 0 = -inf always moves).
  auto run = [&](double current, std::size_t first, std::span<const double> u, std::int64_t index) {
    std::int64_t accepted = 0;
    for (std::size_t i = first; i < k; ++i) {
      if (std::log(u[i - first]) <= log_odds[i] - current) {
        current = log_odds[i];
        index = static_cast<std::int64_t>(i);
        ++accepted;
      }
    }
    return MhChain{.index = index, .restarted = false, .accepted = accepted};
  };
  const MhChain from_real = run(logit(clamp_probability(start_probability)), 0, uniforms, -1);
  if (from_real.index >= 0) return from_real;
  MhChain from_first = run(log_odds[0], 1, restart_uniforms.empty() ? uniforms.subspan(1) : restart_uniforms, 0);
  from_first.restarted = true;
  return from_first;
}

// ----- DRS -------------------------------------------------------------------------------------------------

double drs_f(double logit_value, double max_logit, double epsilon) {
  if (!(epsilon > 0.0) || !std::isfinite(epsilon)) fail("drs_f", "epsilon " + number(epsilon) + " is not > 0");
  if (!std::isfinite(logit_value) || !std::isfinite(max_logit) || logit_value > max_logit) {
    fail("drs_f", "logit " + number(logit_value) + " must be finite and <= the finite max logit " + number(max_logit));
  }
  const double delta = logit_value - max_logit;
  return delta - log1mexp(delta - epsilon);
}

double drs_acceptance_probability(double logit_value, double max_logit, double gamma, double epsilon) {
  return sigmoid(drs_f(logit_value, max_logit, epsilon) - gamma);
}

DrsResult discriminator_rejection_sampling(std::span<const double> burn_in_logits, std::span<const double> logits,
                                           std::span<const double> uniforms, double gamma_quantile, double epsilon) {
  constexpr const char* kWhere = "discriminator_rejection_sampling";
  if (burn_in_logits.empty()) fail(kWhere, "no burn-in logits");
  if (logits.size() != uniforms.size()) {
    fail(kWhere, std::to_string(logits.size()) + " logits but " + std::to_string(uniforms.size()) + " uniforms");
  }
  if (!(gamma_quantile >= 0.0 && gamma_quantile <= 1.0)) {
    fail(kWhere, "gamma_quantile " + number(gamma_quantile) + " is not in [0, 1]");
  }
  if (!(epsilon > 0.0) || !std::isfinite(epsilon)) fail(kWhere, "epsilon " + number(epsilon) + " is not > 0");
  auto check_finite = [&](const char* name, std::span<const double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        fail(kWhere, std::string(name) + "[" + std::to_string(i) + "] is " + number(values[i]) + ", not finite");
      }
    }
  };
  check_finite("burn_in_logits", burn_in_logits);
  check_finite("logits", logits);
  check_uniforms(kWhere, "uniforms", uniforms);

  DrsResult result{.accepted = {}, .max_logit = *std::max_element(burn_in_logits.begin(), burn_in_logits.end()),
                   .gamma = 0.0, .acceptance_probability = {}};
  std::vector<double> burn_in_f;
  burn_in_f.reserve(burn_in_logits.size());
  for (double d : burn_in_logits) burn_in_f.push_back(drs_f(d, result.max_logit, epsilon));
  result.gamma = quantile_linear(burn_in_f, gamma_quantile);

  result.acceptance_probability.reserve(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    result.max_logit = std::max(result.max_logit, logits[i]);
    const double p = drs_acceptance_probability(logits[i], result.max_logit, result.gamma, epsilon);
    result.acceptance_probability.push_back(p);
    if (uniforms[i] <= p) result.accepted.push_back(static_cast<std::int64_t>(i));
  }
  return result;
}

}  // namespace ganleaks::extraction
