#include "metrics/divergence.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <vector>

#include "core/seeding.h"

namespace ganleaks::metrics {
namespace {

const double kLn2 = std::log(2.0);

TEST(Divergence, IdenticalHistogramsAreZeroAndScaleDoesNotMatter) {
  const std::vector<double> p{0.1, 0.2, 0.0, 0.7};
  EXPECT_EQ(js_divergence(p, p), 0.0);
  const std::vector<double> counts{1, 2, 0, 7};  // the same histogram as counts: normalised inside
  EXPECT_NEAR(js_divergence(p, counts), 0.0, 1e-16);
}

TEST(Divergence, DisjointSupportsGiveLn2) {
  EXPECT_DOUBLE_EQ(js_divergence(std::vector<double>{1, 0}, std::vector<double>{0, 1}), kLn2);
  EXPECT_DOUBLE_EQ(js_divergence(std::vector<double>{0.5, 0.5, 0, 0}, std::vector<double>{0, 0, 3, 1}), kLn2);
}

// By hand: p = (1, 0), q = (½, ½), m = (¾, ¼): KL(p‖m) = ln(4/3), KL(q‖m) = ½ ln(2/3) + ½ ln 2 = ½ ln(4/3),
// JS = ¾ ln(4/3). And p = (¼, ¾), q = (¾, ¼), m = (½, ½): JS = ¼ ln ½ + ¾ ln(3/2).
TEST(Divergence, HandComputedTwoBinCases) {
  EXPECT_NEAR(js_divergence(std::vector<double>{1, 0}, std::vector<double>{0.5, 0.5}), 0.75 * std::log(4.0 / 3.0),
              1e-15);
  EXPECT_NEAR(js_divergence(std::vector<double>{0.25, 0.75}, std::vector<double>{0.75, 0.25}),
              0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-15);
}

// p = (½ + ε, ½ − ε), q = (½, ½): JS = ε²/2 (1 + O(ε²)). At ε = 10⁻⁶ that is 5·10⁻¹³, which the textbook
// Σ p ln(p/m) would give only to ~10⁻⁴ relative (terms of ±10⁻⁶ cancelling); the per-bin form keeps it exact.
TEST(Divergence, NearlyIdenticalHistogramsKeepTheirSmallDivergence) {
  const double eps = 1e-6;
  const double js = js_divergence(std::vector<double>{0.5 + eps, 0.5 - eps}, std::vector<double>{0.5, 0.5});
  EXPECT_NEAR(js, 0.5 * eps * eps, 1e-9 * 0.5 * eps * eps);
}

TEST(Divergence, SymmetricAndBounded) {
  Rng rng(7);
  for (int c = 0; c < 50; ++c) {
    std::vector<double> p(6), q(6);
    for (auto& x : p) x = static_cast<double>(rng.uniform(5));  // zero bins on purpose
    for (auto& x : q) x = static_cast<double>(rng.uniform(5));
    p[0] += 1;
    q[5] += 1;
    const double pq = js_divergence(p, q), qp = js_divergence(q, p);
    EXPECT_DOUBLE_EQ(pq, qp);
    EXPECT_GE(pq, 0.0);
    EXPECT_LE(pq, kLn2);
  }
}

TEST(Divergence, RefusesBadHistograms) {
  const std::vector<double> two{0.5, 0.5}, three{1, 1, 1}, negative{-0.1, 1.1}, zero{0, 0};
  const std::vector<double> not_finite{std::nan(""), 1.0};
  EXPECT_THROW(js_divergence(two, three), std::invalid_argument);
  EXPECT_THROW(js_divergence(std::vector<double>{}, std::vector<double>{}), std::invalid_argument);
  EXPECT_THROW(js_divergence(two, negative), std::invalid_argument);
  EXPECT_THROW(js_divergence(zero, two), std::invalid_argument);
  EXPECT_THROW(js_divergence(not_finite, two), std::invalid_argument);
}

TEST(Divergence, ClassHistogramCountsAndRefusesOutOfRangeLabels) {
  const std::vector<std::int64_t> labels{0, 2, 2, 3, 2, 0, 3, 3};
  const auto h = class_histogram(labels, 5);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_DOUBLE_EQ(h[0], 2.0 / 8);
  EXPECT_DOUBLE_EQ(h[1], 0.0);
  EXPECT_DOUBLE_EQ(h[2], 3.0 / 8);
  EXPECT_DOUBLE_EQ(h[3], 3.0 / 8);
  EXPECT_DOUBLE_EQ(h[4], 0.0);
  EXPECT_THROW(class_histogram(labels, 3), std::invalid_argument);  // label 3
  EXPECT_THROW(class_histogram(std::vector<std::int64_t>{0, -1}, 3), std::invalid_argument);
  EXPECT_THROW(class_histogram(std::vector<std::int64_t>{}, 3), std::invalid_argument);
  EXPECT_THROW(class_histogram(labels, 0), std::invalid_argument);
}

// Random cases (zero bins, very uneven bins, many classes). With GANLEAKS_JS_CASES naming a file, the inputs
// and our results are written there for tests/metrics/check_js_scipy.py, which recomputes them with
// scipy.spatial.distance.jensenshannon(p, q)**2 and numpy.bincount (ctest `js_vs_scipy`).
TEST(Divergence, RandomCasesForScipy) {
  Rng rng(20240611);
  std::ofstream out;
  if (const char* file = std::getenv("GANLEAKS_JS_CASES")) {
    out.open(file);
    ASSERT_TRUE(out) << "cannot write " << file;
    out << std::setprecision(17);
  }
  const auto write = [&](const char* kind, const auto& a, const auto& b, const auto& result) {
    if (!out.is_open()) return;
    out << kind;
    for (auto x : a) out << ' ' << x;
    out << " |";
    for (auto x : b) out << ' ' << x;
    out << " |";
    for (auto x : result) out << ' ' << x;
    out << '\n';
  };
  for (int c = 0; c < 200; ++c) {
    const std::size_t bins = 2 + rng.uniform(c < 100 ? 9 : 100);
    std::vector<double> p(bins), q(bins);
    for (std::size_t i = 0; i < bins; ++i) {
      // a third of the bins empty; the rest spread over six orders of magnitude
      p[i] = rng.uniform(3) == 0 ? 0.0 : std::pow(10.0, -6.0 * static_cast<double>(rng.uniform(1000)) / 1000);
      q[i] = rng.uniform(3) == 0 ? 0.0 : std::pow(10.0, -6.0 * static_cast<double>(rng.uniform(1000)) / 1000);
    }
    p[rng.uniform(bins)] += 1.0;  // never all zero
    q[rng.uniform(bins)] += 1.0;
    const double js = js_divergence(p, q);
    EXPECT_GE(js, 0.0);
    EXPECT_LE(js, kLn2);
    EXPECT_DOUBLE_EQ(js, js_divergence(q, p));
    write("js", p, q, std::vector<double>{js});
  }
  for (int c = 0; c < 20; ++c) {
    const int classes = 1 + static_cast<int>(rng.uniform(12));
    std::vector<std::int64_t> labels(1 + rng.uniform(500));
    for (auto& l : labels) l = static_cast<std::int64_t>(rng.uniform(static_cast<std::uint64_t>(classes)));
    const auto h = class_histogram(labels, classes);
    double sum = 0;
    for (double x : h) sum += x;
    EXPECT_NEAR(sum, 1.0, 1e-12);
    write("hist", labels, std::vector<int>{classes}, h);
  }
}

}  // namespace
}  // namespace ganleaks::metrics
