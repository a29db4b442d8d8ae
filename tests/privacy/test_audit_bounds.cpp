// Audit bounds (privacy/audit_bounds.h) on hand-computed cases and under the null: canaries never trained on give
// ε_LB = 0 in at least 95 % of seeded repetitions at 95 % confidence (issue #20). check_audit_bounds.py compares
// `ganleaks audit-bound` with scipy.
#include "privacy/audit_bounds.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>

namespace ganleaks::privacy {
namespace {

TEST(AuditBounds, ClopperPearsonAndTheMultiRunBoundByHand) {
  // No error in T trials: the Beta(1, T) quantile 1 − (1 − c)/2 is 1 − ((1 − c)/2)^(1/T).
  EXPECT_NEAR(clopper_pearson_upper(0, 10, 0.95), 1 - std::pow(0.025, 0.1), 1e-12);
  EXPECT_EQ(clopper_pearson_upper(7, 7, 0.95), 1.0);
  const double rate = 1 - std::pow(0.025, 1e-3);
  EXPECT_NEAR(epsilon_lower_bound(MultiRunAudit{.trials = 1000}), std::log((1 - rate) / rate), 1e-10);
  EXPECT_NEAR(epsilon_lower_bound(MultiRunAudit{.trials = 1000, .delta = 0.01}), std::log((0.99 - rate) / rate), 1e-10);
  EXPECT_EQ(epsilon_lower_bound(MultiRunAudit{.false_positives = 5, .false_negatives = 5, .trials = 10}), 0.0);
  EXPECT_THROW(epsilon_lower_bound(MultiRunAudit{.false_positives = 11, .trials = 10}), std::invalid_argument);
  EXPECT_THROW(clopper_pearson_upper(1, 10, 1.0), std::invalid_argument);
}

TEST(AuditBounds, OneRunBoundByHand) {
  // Every one of r guesses right, δ = 0: P[Binomial(r, q) ≥ r] = q^r = 1 − c at q = 0.05^(1/r), ε = logit(q).
  for (const std::int64_t r : {10, 100}) {
    const double q = std::pow(0.05, 1.0 / static_cast<double>(r));
    EXPECT_NEAR(epsilon_lower_bound(OneRunAudit{.canaries = 1000, .guesses = r, .correct = r}), std::log(q / (1 - q)), 1e-9);
  }
  // One right guess proves nothing at 95 %: P = ½ at ε = 0.
  EXPECT_EQ(epsilon_lower_bound(OneRunAudit{.canaries = 1000, .guesses = 1, .correct = 1}), 0.0);
  // Half right is what chance gives: no bound. δ > 0 lowers it; more right guesses raise it.
  EXPECT_EQ(epsilon_lower_bound(OneRunAudit{.canaries = 100, .guesses = 100, .correct = 50}), 0.0);
  const OneRunAudit some{.canaries = 1000, .guesses = 100, .correct = 80};
  auto with_delta = some;
  with_delta.delta = 1e-4;
  EXPECT_LT(epsilon_lower_bound(with_delta), epsilon_lower_bound(some));
  auto more = some;
  more.correct = 90;
  EXPECT_GT(epsilon_lower_bound(more), epsilon_lower_bound(some));
  EXPECT_THROW(one_run_p_value(OneRunAudit{.canaries = 10, .guesses = 20, .correct = 5}, 1.0), std::invalid_argument);
}

TEST(AuditBounds, GaussianDpBound) {
  // μ-GDP at μ = 1 is (ε, δ)-DP with δ(ε) = Φ(−ε + ½) − e^ε Φ(−ε − ½); at ε = 1: Φ(−0.5) − e Φ(−1.5).
  const double delta = 0.5 * std::erfc(0.5 / std::sqrt(2.0)) - std::exp(1.0) * 0.5 * std::erfc(1.5 / std::sqrt(2.0));
  EXPECT_NEAR(gdp_epsilon(1.0, delta), 1.0, 1e-9);
  EXPECT_EQ(gdp_epsilon(0.0, 1e-5), 0.0);
  EXPECT_TRUE(std::isinf(gdp_epsilon(1.0, 0.0)));
  EXPECT_EQ(gdp_mu_lower_bound(MultiRunAudit{.false_positives = 10, .false_negatives = 10, .trials = 10}), 0.0);
}

// Canaries never trained on: a multi-run threshold's errors are fair coins (F, N ~ Binomial(T, ½)), a one-run
// guess is right with probability ½. At 95 % confidence the bound must be 0 in at least 95 % of repetitions.
TEST(AuditBounds, NullCanariesGiveNoBound) {
  std::mt19937_64 rng(20);
  std::binomial_distribution<std::int64_t> coin_flips(100, 0.5), guesses(200, 0.5);
  int multi_zero = 0, one_zero = 0;
  constexpr int kRepetitions = 1000;
  for (int i = 0; i < kRepetitions; ++i) {
    multi_zero += epsilon_lower_bound(MultiRunAudit{.false_positives = coin_flips(rng), .false_negatives = coin_flips(rng),
                                                    .trials = 100, .delta = 1e-5}) == 0;
    one_zero += epsilon_lower_bound(OneRunAudit{.canaries = 1000, .guesses = 200, .correct = guesses(rng), .delta = 1e-5}) == 0;
  }
  EXPECT_GE(multi_zero, 950);
  EXPECT_GE(one_zero, 950);
}

}  // namespace
}  // namespace ganleaks::privacy
