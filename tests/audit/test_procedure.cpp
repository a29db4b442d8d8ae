// The audit's guesses and counts (audit/procedure.h) by hand, and its null checks: canaries never trained on (IN
// and OUT scores from one distribution) give ε_LB = 0 in at least 95 % of seeded repetitions at 95 % confidence,
// for the whole multi-run procedure (threshold chosen on its own runs, then counted) and the one-run procedure.
#include "audit/procedure.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "privacy/audit_bounds.h"

namespace ganleaks::audit {
namespace {

TEST(AuditProcedure, MultiRunChoosesTheThresholdOnItsOwnRunsAndCountsTheOthers) {
  // Threshold runs: IN {1, 2}, OUT {5, 6}: every threshold in (2, 5) separates them; the midpoint of 2 and 5 is the
  // only candidate between them. Counted runs: IN {3, 0.5, 7} (7 a false negative), OUT {0, 8, 9} (0 a false
  // positive).
  const std::vector<double> in{1, 2, 3, 0.5, 7}, out{5, 6, 0, 8, 9};
  const auto o = multi_run_outcome(in, out, 2, 0.0, 0.95);
  EXPECT_EQ(o.threshold, 3.5);
  EXPECT_EQ(o.trials, 3);
  EXPECT_EQ(o.false_positives, 1);
  EXPECT_EQ(o.false_negatives, 1);
  const privacy::MultiRunAudit counted{.false_positives = 1, .false_negatives = 1, .trials = 3};
  EXPECT_EQ(o.epsilon_lb, privacy::epsilon_lower_bound(counted));
  EXPECT_EQ(o.gdp_mu, privacy::gdp_mu_lower_bound(counted));
  EXPECT_EQ(o.ceiling, privacy::epsilon_lower_bound(privacy::MultiRunAudit{.trials = 3}));
}

TEST(AuditProcedure, MultiRunPerfectSeparationReachesTheCeiling) {
  std::vector<double> in, out;
  for (int i = 0; i < 40; ++i) in.push_back(-1.0 - i), out.push_back(1.0 + i);
  const auto o = multi_run_outcome(in, out, 8, 1e-5, 0.95);
  EXPECT_EQ(o.threshold, 0.0);
  EXPECT_EQ(o.false_positives + o.false_negatives, 0);
  EXPECT_EQ(o.epsilon_lb, o.ceiling);
  EXPECT_GT(o.epsilon_lb, 1.0);  // 32 + 32 runs: FPR̄ = FNR̄ = 1 − 0.025^(1/32) ≈ 0.109
  EXPECT_NEAR(o.epsilon_lb, std::log((1 - 1e-5 - (1 - std::pow(0.025, 1.0 / 32))) / (1 - std::pow(0.025, 1.0 / 32))), 1e-9);
}

TEST(AuditProcedure, MultiRunTakesASystematicDifferenceOfEitherSign) {
  // The canary raises the loss here: every IN run above every OUT run. The rule chosen guesses IN above t.
  std::vector<double> in, out;
  for (int i = 0; i < 20; ++i) in.push_back(10.0 + i), out.push_back(-10.0 - i);
  const auto o = multi_run_outcome(in, out, 4, 0.0, 0.95);
  EXPECT_TRUE(o.in_above);
  EXPECT_EQ(o.threshold, 0.0);
  EXPECT_EQ(o.false_positives + o.false_negatives, 0);
  EXPECT_EQ(o.epsilon_lb, o.ceiling);
  // The expected side wins a tie: with nothing to tell the runs apart, "below" and the lowest threshold.
  const std::vector<double> same(10, 1.0);
  const auto tie = multi_run_outcome(same, same, 4, 0.0, 0.95);
  EXPECT_FALSE(tie.in_above);
  EXPECT_EQ(tie.epsilon_lb, 0.0);
}

TEST(AuditProcedure, MultiRunRejectsMismatchedSides) {
  const std::vector<double> three{1, 2, 3}, two{1, 2};
  EXPECT_THROW(multi_run_outcome(three, two, 1, 0, 0.95), std::invalid_argument);
  EXPECT_THROW(multi_run_outcome(three, three, 3, 0, 0.95), std::invalid_argument);
  EXPECT_THROW(multi_run_outcome(three, three, 0, 0, 0.95), std::invalid_argument);
}

TEST(AuditProcedure, OneRunGuessesTheExtremesByHand) {
  // Losses 0..7; included: canaries 0, 1, 5 and 7. Guessed IN: the 2 lowest (0, 1, both right); OUT: the 2 highest
  // (6 right, 7 wrong).
  const std::vector<double> loss{0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<std::uint8_t> included{1, 1, 0, 0, 0, 1, 0, 1};
  const auto o = one_run_outcome(loss, included, 2, 2, 0.0, 0.95);
  EXPECT_EQ(o.guess, (std::vector<std::int8_t>{1, 1, 0, 0, 0, 0, -1, -1}));
  EXPECT_EQ(o.guesses, 4);
  EXPECT_EQ(o.correct, 3);
  EXPECT_EQ(o.epsilon_lb, privacy::epsilon_lower_bound(privacy::OneRunAudit{.canaries = 8, .guesses = 4, .correct = 3}));
  EXPECT_EQ(o.ceiling, privacy::epsilon_lower_bound(privacy::OneRunAudit{.canaries = 8, .guesses = 4, .correct = 4}));
  EXPECT_THROW(one_run_outcome(loss, included, 5, 4, 0.0, 0.95), std::invalid_argument);
}

TEST(AuditProcedure, NullMultiRunGivesNoBoundAtTheConfidence) {
  std::mt19937_64 rng(2020);
  std::normal_distribution<double> score;
  int zero = 0;
  double largest_ceiling = 0;
  for (int rep = 0; rep < 1000; ++rep) {
    std::vector<double> in(60), out(60);
    for (auto& x : in) x = score(rng);
    for (auto& x : out) x = score(rng);
    const auto o = multi_run_outcome(in, out, 10, 1e-5, 0.95);
    zero += o.epsilon_lb == 0 ? 1 : 0;
    largest_ceiling = std::max(largest_ceiling, o.ceiling);
  }
  EXPECT_GT(largest_ceiling, 1.0);  // the audit could have shown ε_LB > 1 ...
  EXPECT_GE(zero, 950);             // ... and under the null it shows 0 at least 95 % of the time
}

TEST(AuditProcedure, NullOneRunGivesNoBoundAtTheConfidence) {
  std::mt19937_64 rng(2023);
  std::normal_distribution<double> score;
  std::bernoulli_distribution coin(0.5);
  int zero = 0;
  for (int rep = 0; rep < 1000; ++rep) {
    std::vector<double> loss(200);
    std::vector<std::uint8_t> included(200);
    for (auto& x : loss) x = score(rng);
    for (auto& b : included) b = coin(rng) ? 1 : 0;
    zero += one_run_outcome(loss, included, 20, 20, 1e-5, 0.95).epsilon_lb == 0 ? 1 : 0;
  }
  EXPECT_GE(zero, 950);
}

}  // namespace
}  // namespace ganleaks::audit
