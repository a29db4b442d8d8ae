#include "metrics/bootstrap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace ganleaks::metrics {
namespace {

TEST(Quantile, InterpolatesLinearlyLikeNumpy) {
  std::vector<double> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 2.5);   // numpy.quantile([1,2,3,4], 0.5)
  EXPECT_DOUBLE_EQ(quantile(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile(v, 1.0), 4.0);
  EXPECT_THROW(quantile(v, 1.5), std::invalid_argument);
}

// Members ~ N(shift, 1), non-members ~ N(0, 1): the true AUC is Phi(shift / sqrt 2).
void simulate(std::mt19937_64& gen, int per_class, double shift, std::vector<double>& s, std::vector<std::uint8_t>& y) {
  std::normal_distribution<double> normal;
  s.clear();
  y.clear();
  for (int i = 0; i < per_class; ++i) {
    s.push_back(normal(gen) + shift);
    y.push_back(1);
    s.push_back(normal(gen));
    y.push_back(0);
  }
}

TEST(Bootstrap, NinetyFivePercentIntervalCoversTheTrueAucAboutNinetyFivePercentOfTheTime) {
  const double shift = 1.0;
  const double true_auc = 0.5 * std::erfc(-shift / 2.0);  // Phi(shift / sqrt 2)
  std::mt19937_64 gen(7);
  std::vector<double> s;
  std::vector<std::uint8_t> y;
  int covered = 0;
  const int datasets = 100;
  for (int d = 0; d < datasets; ++d) {
    simulate(gen, 150, shift, s, y);
    const auto ci = bootstrap_intervals(s, y, 300, d);
    EXPECT_LE(ci.auc.low, auc(s, y));
    EXPECT_GE(ci.auc.high, auc(s, y));
    covered += ci.auc.low <= true_auc && true_auc <= ci.auc.high;
  }
  // Binomial(100, 0.95) lies in [88, 100] with probability > 0.999.
  EXPECT_GE(covered, 88) << "coverage " << covered << "/" << datasets;
}

TEST(Bootstrap, SeededAndStratified) {
  std::mt19937_64 gen(3);
  std::vector<double> s;
  std::vector<std::uint8_t> y;
  simulate(gen, 40, 0.5, s, y);
  const auto a = bootstrap_intervals(s, y, 200, 11), b = bootstrap_intervals(s, y, 200, 11),
             c = bootstrap_intervals(s, y, 200, 12);
  EXPECT_EQ(a.auc.low, b.auc.low);
  EXPECT_EQ(a.tpr[2].high, b.tpr[2].high);
  EXPECT_NE(a.auc.low, c.auc.low);
  EXPECT_LE(a.tpr[0].low, a.tpr[0].high);
}

TEST(Bootstrap, PerfectSeparationGivesAPointInterval) {
  const std::vector<double> s{5, 6, 7, 1, 2, 3};
  const std::vector<std::uint8_t> y{1, 1, 1, 0, 0, 0};
  const auto ci = bootstrap_intervals(s, y, 50, 0);
  EXPECT_EQ(ci.auc.low, 1.0);
  EXPECT_EQ(ci.auc.high, 1.0);
  EXPECT_EQ(ci.tpr[0].low, 1.0);
}

TEST(Bootstrap, RejectsTooFewResamplesAndBadLabels) {
  const std::vector<double> s{1, 0};
  EXPECT_THROW(bootstrap_intervals(s, std::vector<std::uint8_t>{1, 0}, 1, 0), std::invalid_argument);
  EXPECT_THROW(bootstrap_intervals(s, std::vector<std::uint8_t>{1, 1}, 10, 0), std::invalid_argument);
}

}  // namespace
}  // namespace ganleaks::metrics
