#include "privacy/accountant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ganleaks::privacy {
namespace {

TEST(Accountant, MatchesAHandComputedIntegerOrder) {
  // sigma 1, q 0.01, 300 steps, orders {2, 5, 10, 20, 100}, delta 1e-5, the original conversion. By hand:
  // A_5 = sum_i C(5,i) q^i (1-q)^(5-i) e^((i^2-i)/2) = 1.0018762..., RDP_5 = 300 ln(A_5) / 4 = 0.1406002,
  // epsilon = 0.1406002 + ln(1e5) / 4 = 3.0188315 at order 5 (Opacus gives the same; SPEC §2 quotes ~2.39 for
  // this case, which neither this sum nor Opacus reproduces).
  const std::vector<double> orders{2, 5, 10, 20, 100};
  const auto spent = epsilon(orders, rdp(0.01, 1.0, 300, orders), 1e-5, Conversion::kMironov2017);
  EXPECT_NEAR(spent.epsilon, 3.018831538893296, 1e-9);
  EXPECT_EQ(spent.order, 5);
  EXPECT_NEAR(rdp_sampled_gaussian(0.01, 1.0, 5.0) * 300, 0.14060017265073857, 1e-12);
}

TEST(Accountant, FullBatchIsTheGaussianMechanism) {
  for (const double a : {1.5, 2.0, 7.0}) EXPECT_DOUBLE_EQ(rdp_sampled_gaussian(1.0, 2.0, a), a / 8.0);
  EXPECT_EQ(rdp_sampled_gaussian(0.0, 1.0, 3.0), 0.0);
  EXPECT_TRUE(std::isinf(rdp_sampled_gaussian(0.5, 0.0, 3.0)));
}

TEST(Accountant, FractionalSeriesMeetsTheIntegerExpansion) {
  // Around an integer order the fractional series must join the exact binomial sum continuously.
  for (const double q : {0.001, 0.02, 0.3}) {
    const double at_integer = rdp_sampled_gaussian(q, 1.1, 6.0);
    EXPECT_NEAR(rdp_sampled_gaussian(q, 1.1, 6.0 + 1e-7), at_integer, 1e-5 * at_integer) << "q = " << q;
    EXPECT_NEAR(rdp_sampled_gaussian(q, 1.1, 6.0 - 1e-7), at_integer, 1e-5 * at_integer) << "q = " << q;
  }
}

TEST(Accountant, EpsilonGrowsWithStepsAndRateAndFallsWithNoise) {
  const double base = epsilon(0.01, 1.0, 1000, 1e-5).epsilon;
  EXPECT_GT(epsilon(0.01, 1.0, 2000, 1e-5).epsilon, base);
  EXPECT_GT(epsilon(0.02, 1.0, 1000, 1e-5).epsilon, base);
  EXPECT_LT(epsilon(0.01, 2.0, 1000, 1e-5).epsilon, base);
}

TEST(Accountant, InverseRoundTrips) {
  for (const double sigma : {0.7, 1.0, 3.0}) {
    const double eps = epsilon(0.01, sigma, 500, 1e-5).epsilon;
    EXPECT_NEAR(noise_multiplier_for(eps, 0.01, 500, 1e-5), sigma, 1e-6 * sigma);
  }
  EXPECT_THROW(noise_multiplier_for(1e-9, 1.0, 1000000, 1e-5), std::invalid_argument);
}

}  // namespace
}  // namespace ganleaks::privacy
