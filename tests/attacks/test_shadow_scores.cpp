// LiRA and RMIA scores (attacks/shadow_scores.h) on hand-computed cases and on planted Gaussian signals whose
// analytic TPR at 1 % FPR is known; tests/attacks/check_shadow_scores.py checks them against numpy and scipy.
#include "attacks/shadow_scores.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>
#include <vector>

#include "metrics/normal.h"
#include "metrics/roc.h"

namespace ganleaks::attacks {
namespace {

TEST(ShadowScores, LiraOnAHandComputedQuery) {
  // One query, 4 shadows: IN signals 1 and 3 (μ 2, σ 1), OUT 0 and 2 (μ 1, σ 1); the target's signal is 2.
  const ShadowSignals s{.queries = 1, .shadows = 4, .signal = {1, 0, 3, 2}, .in = {1, 0, 1, 0}};
  const std::vector<double> target{2.0};
  const auto in = fit_shadows(s, true, Spread::kPerQuery);
  EXPECT_DOUBLE_EQ(in[0].mean, 2.0);
  EXPECT_DOUBLE_EQ(in[0].stddev, 1.0);
  // log N(2; 2, 1) − log N(2; 1, 1) = 0 − (−½)
  EXPECT_NEAR(lira_online(target, s, Spread::kPerQuery)[0], 0.5, 1e-12);
  // log Φ((2 − 1) / 1), scipy.special.log_ndtr(1)
  EXPECT_NEAR(lira_offline(target, s, Spread::kPerQuery)[0], -0.1727537790234499, 1e-15);
}

TEST(ShadowScores, GlobalSpreadPoolsEveryQuerysDeviationsFromItsOwnMean) {
  // Query 0's OUT signals deviate by ±1 from their mean, query 1's by ±3: the pooled σ is √((1+1+9+9)/4) = √5,
  // whatever the queries' means (which differ by 100 here).
  const ShadowSignals s{.queries = 2, .shadows = 4, .signal = {0, 2, 9, 9, 97, 103, 9, 9}, .in = {0, 0, 1, 1, 0, 0, 1, 1}};
  const auto out = fit_shadows(s, false, Spread::kGlobal);
  EXPECT_DOUBLE_EQ(out[0].mean, 1.0);
  EXPECT_DOUBLE_EQ(out[1].mean, 100.0);
  EXPECT_DOUBLE_EQ(out[0].stddev, std::sqrt(5.0));
  EXPECT_DOUBLE_EQ(out[1].stddev, std::sqrt(5.0));
  EXPECT_EQ(default_spread(16), Spread::kGlobal);
  EXPECT_EQ(default_spread(64), Spread::kPerQuery);
}

TEST(ShadowScores, RefusesQueriesWithoutShadowsOnASide) {
  const ShadowSignals one_in{.queries = 1, .shadows = 3, .signal = {1, 2, 3}, .in = {1, 0, 0}};
  EXPECT_THROW(fit_shadows(one_in, true, Spread::kPerQuery), std::invalid_argument);  // one IN: no spread
  EXPECT_NO_THROW(fit_shadows(one_in, true, Spread::kGlobal));
  const ShadowSignals all_out{.queries = 1, .shadows = 2, .signal = {1, 2}, .in = {0, 0}};
  EXPECT_THROW(lira_online(std::vector<double>{1.0}, all_out, Spread::kGlobal), std::invalid_argument);
  const ShadowSignals wrong{.queries = 2, .shadows = 2, .signal = {1, 2, 3}, .in = {0, 1, 0, 1}};
  EXPECT_THROW(fit_shadows(wrong, true, Spread::kGlobal), std::invalid_argument);
}

TEST(ShadowScores, RmiaOnAHandComputedCase) {
  // x: target 0.8, shadows 0.4 (IN) and 0.6 (OUT); z1: target 0.5, shadows 0.5, 0.5; z2: target 0.6, shadows 0.1, 0.3.
  const std::vector<double> x{0.8}, z{0.5, 0.6};
  const ShadowSignals sx{.queries = 1, .shadows = 2, .signal = {0.4, 0.6}, .in = {1, 0}};
  const ShadowSignals sz{.queries = 2, .shadows = 2, .signal = {0.5, 0.5, 0.1, 0.3}, .in = {0, 0, 0, 0}};
  // Online: Pr(x) = 0.5, ratio 1.6; z ratios 1 and 3: x beats z1 only.
  EXPECT_DOUBLE_EQ(rmia(x, sx, z, sz, {.online = true})[0], 0.5);
  // Offline, a = 0.3: Pr(x) = ½(1.3·0.6 + 0.7) = 0.74, ratio 1.081; Pr(z1) = 0.675, ratio 0.741; Pr(z2) = 0.48,
  // ratio 1.25: x beats z1 only. With γ = 1.5 it beats neither (1.081 / 0.741 = 1.46).
  EXPECT_DOUBLE_EQ(rmia(x, sx, z, sz, {.online = false, .a = 0.3})[0], 0.5);
  EXPECT_DOUBLE_EQ(rmia(x, sx, z, sz, {.online = false, .a = 0.3, .gamma = 1.5})[0], 0.0);
}

TEST(ShadowScores, LogNormalCdfMatchesScipyAcrossTheRange) {
  // scipy.special.log_ndtr at these points.
  const std::vector<std::pair<double, double>> cases{{-50.0, -1254.8313611394199},
                                                     {-38.0, -726.5572160188201},
                                                     {-10.0, -53.23128515051248},
                                                     {0.0, -0.6931471805599453},
                                                     {3.0, -0.0013508099647481925},
                                                     {9.0, -1.1285884059538324e-19}};
  for (const auto& [z, expected] : cases) EXPECT_NEAR(metrics::log_normal_cdf(z) / expected, 1.0, 1e-12) << "z = " << z;
}

// Planted signals: OUT ~ N(0, 1), IN ~ N(δ, 1) for every query, K shadows each IN for half the queries. The
// likelihood-ratio test then has TPR = 1 − Φ(z₀.₉₉ − δ) at FPR 1 %, online and offline alike (equal variances).
TEST(ShadowScores, LiraReachesTheAnalyticTprAtOnePercentFprOnPlantedSignals) {
  constexpr std::int64_t kQueries = 20000, kShadows = 256;
  constexpr double kShift = 2.0;
  std::mt19937_64 rng(19);
  std::normal_distribution<double> normal;
  ShadowSignals s{.queries = kQueries, .shadows = kShadows};
  std::vector<double> target;
  std::vector<std::uint8_t> is_member;
  for (std::int64_t q = 0; q < kQueries; ++q) {
    for (std::int64_t k = 0; k < kShadows; ++k) {
      const bool in = (k + q) % 2 == 0;  // shadow pairs: each query IN for exactly half
      s.in.push_back(in);
      s.signal.push_back(normal(rng) + (in ? kShift : 0.0));
    }
    is_member.push_back(q % 2);
    target.push_back(normal(rng) + (q % 2 ? kShift : 0.0));
  }
  const double analytic = 0.5 * std::erfc((2.3263478740408408 - kShift) / std::numbers::sqrt2);  // 1 − Φ(z − δ)
  // Sampling error: about 0.015 (10 000 members, and the 1 % quantile of 10 000 non-members).
  for (const auto& scores : {lira_online(target, s, Spread::kPerQuery), lira_online(target, s, Spread::kGlobal),
                             lira_offline(target, s, Spread::kPerQuery), lira_offline(target, s, Spread::kGlobal)}) {
    EXPECT_NEAR(metrics::tpr_at_fpr(scores, is_member, 0.01), analytic, 0.05);
  }
}

}  // namespace
}  // namespace ganleaks::attacks
