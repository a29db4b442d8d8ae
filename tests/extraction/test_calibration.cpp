// Isotonic and Platt calibration of discriminator logits (extraction/calibration.h), by hand-computed cases and
// their defining properties; scikit-learn agrees in check_calibration.py.
#include "extraction/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "refine_testing.h"

namespace ganleaks::extraction {
namespace {

using namespace ganleaks::extraction::test_support;

// ----- isotonic --------------------------------------------------------------------------------------------

TEST(IsotonicCalibration, MonotoneDataIsReturnedAsIs) {
  const Scores s{1, 1, 2, 2, 3, 3};
  const Labels y{0, 0, 0, 1, 1, 1};
  const Calibrator c = Calibrator::isotonic(s, y);
  EXPECT_EQ(c.method(), CalibrationMethod::kIsotonic);
  EXPECT_EQ(c.method_name(), "isotonic");
  EXPECT_EQ(std::vector<double>(c.thresholds().begin(), c.thresholds().end()), (Scores{1, 2, 3}));
  EXPECT_EQ(std::vector<double>(c.values().begin(), c.values().end()), (Scores{0, 0.5, 1}));
  EXPECT_EQ(c.probability(1), 0.0);
  EXPECT_EQ(c.probability(2), 0.5);
  EXPECT_EQ(c.probability(3), 1.0);
}

TEST(IsotonicCalibration, OneViolationIsPooledToTheMean) {
  const Calibrator c = Calibrator::isotonic(Scores{4, 2, 3, 1}, Labels{1, 1, 0, 0});  // sorted: 0 1 0 1
  EXPECT_EQ(c.probabilities(Scores{1, 2, 3, 4}), (Scores{0, 0.5, 0.5, 1}));
  EXPECT_DOUBLE_EQ(c.probability(1.5), 0.25);
  EXPECT_DOUBLE_EQ(c.probability(2.5), 0.5);
  EXPECT_DOUBLE_EQ(c.probability(3.5), 0.75);
  // A longer violation reaching back over several blocks: 1 1 0 0 0 -> all 0.4.
  const Calibrator pooled = Calibrator::isotonic(Scores{1, 2, 3, 4, 5}, Labels{1, 1, 0, 0, 0});
  for (double s : {1.0, 2.5, 5.0}) EXPECT_DOUBLE_EQ(pooled.probability(s), 0.4);
  // Trimmed like sklearn: only the two end points of a constant fit remain.
  EXPECT_EQ(pooled.thresholds().size(), 2u);
}

TEST(IsotonicCalibration, TiedScoresAreOnePointWithTheMeanLabel) {
  // Scores 1 (labels 1, 0), 2 (0, 0), 3 (1): means 0.5, 0, 1 with weights 2, 2, 1; the violation pools the
  // first two to (0.5·2 + 0·2)/4 = 0.25.
  const Calibrator c = Calibrator::isotonic(Scores{2, 1, 3, 1, 2}, Labels{0, 1, 1, 0, 0});
  EXPECT_EQ(std::vector<double>(c.thresholds().begin(), c.thresholds().end()), (Scores{1, 2, 3}));
  EXPECT_EQ(std::vector<double>(c.values().begin(), c.values().end()), (Scores{0.25, 0.25, 1}));
  EXPECT_DOUBLE_EQ(c.probability(1.5), 0.25);
  EXPECT_DOUBLE_EQ(c.probability(2.5), 0.625);
  // sklearn's tie resolution is 1e-15, absolute: 0 and 5e-16 are one score, 0 and 1e-14 two.
  EXPECT_EQ(Calibrator::isotonic(Scores{0, 5e-16}, Labels{0, 1}).thresholds().size(), 1u);
  EXPECT_EQ(Calibrator::isotonic(Scores{0, 1e-14}, Labels{0, 1}).thresholds().size(), 2u);
}

TEST(IsotonicCalibration, InterpolatesBetweenAndClipsOutsideTheFittedPoints) {
  // Mean labels 0.25 at score 0 and 1 at score 10.
  const Calibrator c = Calibrator::isotonic(Scores{0, 0, 0, 0, 10, 10}, Labels{0, 0, 0, 1, 1, 1});
  EXPECT_DOUBLE_EQ(c.probability(2.5), 0.25 + 0.25 * 0.75);
  EXPECT_DOUBLE_EQ(c.probability(5), 0.625);
  EXPECT_EQ(c.probability(-1e300), 0.25);
  EXPECT_EQ(c.probability(-1), 0.25);
  EXPECT_EQ(c.probability(11), 1.0);
  EXPECT_EQ(c.probability(1e300), 1.0);
  // One distinct score: its mean label everywhere.
  const Calibrator constant = Calibrator::isotonic(Scores{3, 3, 3}, Labels{1, 0, 0});
  EXPECT_DOUBLE_EQ(constant.probability(-5), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(constant.probability(7), 1.0 / 3.0);
}

TEST(IsotonicCalibration, RandomDataGivesAMonotoneFitIndependentOfInputOrder) {
  std::mt19937_64 rng(7);
  Scores s;
  Labels y;
  for (int i = 0; i < 2000; ++i) {
    const bool real = uniform01(rng) < 0.4;
    y.push_back(real);
    s.push_back(std::round((normal(rng) + (real ? 1.0 : 0.0)) * 10.0) / 10.0);  // many ties
  }
  const Calibrator c = Calibrator::isotonic(s, y);
  double previous = -1.0;
  for (double t = -6.0; t <= 7.0; t += 0.01) {
    const double p = c.probability(t);
    EXPECT_GE(p, previous);
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 1.0);
    previous = p;
  }
  for (std::size_t i = 1; i < c.values().size(); ++i) {
    EXPECT_LT(c.thresholds()[i - 1], c.thresholds()[i]);
    EXPECT_LE(c.values()[i - 1], c.values()[i]);
  }
  // Reversed input: the same fit, bit for bit (ties are summed in (score, label) order).
  Scores rs(s.rbegin(), s.rend());
  Labels ry(y.rbegin(), y.rend());
  const Calibrator reversed = Calibrator::isotonic(rs, ry);
  EXPECT_TRUE(std::equal(c.values().begin(), c.values().end(), reversed.values().begin(), reversed.values().end()));
  // The fit is the least-squares isotonic fit: its mean equals the label mean (PAVA preserves sums).
  double fitted_sum = 0.0;
  for (double v : s) fitted_sum += c.probability(v);
  EXPECT_NEAR(fitted_sum, std::accumulate(y.begin(), y.end(), 0.0), 1e-9);
}

TEST(IsotonicCalibration, RejectsBadInput) {
  expect_invalid([] { Calibrator::isotonic(Scores{1, 2}, Labels{1}); }, "2 scores but 1 labels");
  expect_invalid([] { Calibrator::isotonic(Scores{}, Labels{}); }, "no scores");
  expect_invalid([] { Calibrator::isotonic(Scores{1, 2}, Labels{0, 0}); }, "no positive");
  expect_invalid([] { Calibrator::isotonic(Scores{1, 2}, Labels{1, 1}); }, "no negative");
  expect_invalid([] { Calibrator::isotonic(Scores{1, NAN}, Labels{0, 1}); }, "score 1 is nan, not finite");
  expect_invalid([] { Calibrator::isotonic(Scores{INFINITY, 1}, Labels{0, 1}); }, "score 0 is inf");
  expect_invalid([] { Calibrator::isotonic(Scores{1, 2}, Labels{0, 2}); }, "label 1 is 2");
  const Calibrator c = Calibrator::isotonic(Scores{1, 2}, Labels{0, 1});
  expect_invalid([&] { c.probability(NAN); }, "not finite");
}

// ----- Platt -----------------------------------------------------------------------------------------------

TEST(PlattCalibration, TwoPointsFitTheSmoothedTargetsExactly) {
  // One real at +1, one generated at -1: targets 2/3 and 1/3, which a sigmoid fits exactly:
  // A + B = log(1/(2/3) - 1) = -log 2, -A + B = log 2.
  const Calibrator c = Calibrator::platt(Scores{1, -1}, Labels{1, 0});
  EXPECT_EQ(c.method_name(), "platt");
  EXPECT_NEAR(c.platt_a(), -std::log(2.0), 1e-12);
  EXPECT_NEAR(c.platt_b(), 0.0, 1e-12);
  EXPECT_NEAR(c.probability(1), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(c.probability(-1), 1.0 / 3.0, 1e-12);
}

TEST(PlattCalibration, TwoGaussiansGiveTheirPosteriorLogit) {
  // Generated ~ N(-1, 1), real ~ N(1, 1), equal counts: log-odds = 2 s, i.e. A = -2, B = 0.
  std::mt19937_64 rng(11);
  Scores s;
  Labels y;
  for (int i = 0; i < 4000; ++i) {
    y.push_back(i % 2);
    s.push_back(normal(rng) + (i % 2 ? 1.0 : -1.0));
  }
  const Calibrator c = Calibrator::platt(s, y);
  EXPECT_LT(c.platt_a(), 0.0);
  EXPECT_NEAR(c.platt_a(), -2.0, 0.15);
  EXPECT_NEAR(c.platt_b(), 0.0, 0.1);
  EXPECT_LT(c.probability(-1.0), c.probability(0.0));
  EXPECT_LT(c.probability(0.0), c.probability(1.0));
  EXPECT_LE(c.platt_iterations(), 10);

  // The optimum: the central-difference gradient of the objective vanishes (in units of the per-sample
  // loss), and every nearby point is worse.
  const double a = c.platt_a(), b = c.platt_b(), h = 1e-5;
  const double ga = (platt_objective(s, y, a + h, b) - platt_objective(s, y, a - h, b)) / (2 * h);
  const double gb = (platt_objective(s, y, a, b + h) - platt_objective(s, y, a, b - h)) / (2 * h);
  EXPECT_LT(std::abs(ga) / 4000.0, 1e-7);
  EXPECT_LT(std::abs(gb) / 4000.0, 1e-7);
  const double best = platt_objective(s, y, a, b);
  for (double da : {-1e-3, 0.0, 1e-3}) {
    for (double db : {-1e-3, 0.0, 1e-3}) {
      if (da != 0.0 || db != 0.0) {
        EXPECT_GT(platt_objective(s, y, a + da, b + db), best);
      }
    }
  }
}

TEST(PlattCalibration, SymmetricDataHasNoOffset) {
  // Generated scores are the mirror image of the real ones and the counts are equal, so t- = 1 - t+ and the
  // objective is symmetric under (s, t) -> (-s, 1 - t), which maps B to -B: the unique optimum has B = 0.
  std::mt19937_64 rng(3);
  Scores s;
  Labels y;
  for (int i = 0; i < 300; ++i) {
    const double v = normal(rng) + 0.7;
    s.push_back(v);
    y.push_back(1);
    s.push_back(-v);
    y.push_back(0);
  }
  const Calibrator c = Calibrator::platt(s, y);
  EXPECT_NEAR(c.platt_b(), 0.0, 1e-12);
  EXPECT_LT(c.platt_a(), 0.0);
  EXPECT_NEAR(c.probability(0.8) + c.probability(-0.8), 1.0, 1e-12);
}

TEST(PlattCalibration, IsScaleEquivariantAndFiniteOnSeparableData) {
  // Perfectly separated classes: the smoothed targets keep the optimum finite.
  const Scores s{-3, -2, -1.5, 1, 2, 4};
  const Labels y{0, 0, 0, 1, 1, 1};
  const Calibrator c = Calibrator::platt(s, y);
  EXPECT_TRUE(std::isfinite(c.platt_a()));
  EXPECT_LT(c.platt_a(), 0.0);
  EXPECT_LT(c.probability(-1.5), 0.5);
  EXPECT_GT(c.probability(1), 0.5);
  // Large logits (as sklearn, beyond |s| = 30): A scales inversely, B is unchanged.
  Scores big;
  for (double v : s) big.push_back(1000.0 * v);
  const Calibrator scaled = Calibrator::platt(big, y);
  EXPECT_NEAR(scaled.platt_a() * 1000.0, c.platt_a(), 1e-9 * std::abs(c.platt_a()));
  EXPECT_NEAR(scaled.platt_b(), c.platt_b(), 1e-9);
}

TEST(PlattCalibration, ConstantScoresPredictTheMeanTarget) {
  // 2 real, 1 generated: targets 3/4, 3/4, 1/3, mean 11/18.
  const Calibrator c = Calibrator::platt(Scores{5, 5, 5}, Labels{1, 1, 0});
  EXPECT_EQ(c.platt_a(), 0.0);
  EXPECT_NEAR(c.probability(5), 11.0 / 18.0, 1e-15);
  EXPECT_EQ(c.platt_iterations(), 0);
}

TEST(PlattCalibration, RejectsBadInput) {
  expect_invalid([] { Calibrator::platt(Scores{1, 2, 3}, Labels{1, 0}); }, "3 scores but 2 labels");
  expect_invalid([] { Calibrator::platt(Scores{1, 2}, Labels{0, 0}); }, "Calibrator::platt: no positive");
  expect_invalid([] { Calibrator::platt(Scores{1, 2}, Labels{1, 1}); }, "no negative");
  expect_invalid([] { Calibrator::platt(Scores{1, -INFINITY}, Labels{1, 0}); }, "score 1 is -inf");
  expect_invalid([] { platt_objective(Scores{1}, Labels{1}, 0, 0); }, "platt_objective: no negative");
}


}  // namespace
}  // namespace ganleaks::extraction
