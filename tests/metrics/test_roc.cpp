#include "metrics/roc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ganleaks::metrics {
namespace {

using Scores = std::vector<double>;
using Labels = std::vector<std::uint8_t>;
constexpr double kInf = std::numeric_limits<double>::infinity();

// O(P*N) definition of AUC, the reference for the sort-based implementation.
double brute_force_auc(const Scores& s, const Labels& y) {
  double u = 0.0, pairs = 0.0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!y[i]) continue;
    for (std::size_t j = 0; j < s.size(); ++j) {
      if (y[j]) continue;
      u += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
      pairs += 1.0;
    }
  }
  return u / pairs;
}

// Random scores rounded to one decimal so that many ties (including member/non-member ones) occur.
void random_case(std::uint64_t seed, std::size_t n, Scores& s, Labels& y) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::bernoulli_distribution coin(0.4);
  s.clear();
  y.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const bool member = coin(rng);
    y.push_back(member ? 1 : 0);
    s.push_back(std::round((normal(rng) + (member ? 0.5 : 0.0)) * 10.0) / 10.0);
  }
}

void expect_invalid(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    FAIL() << "expected std::invalid_argument containing \"" << fragment << "\"";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Auc, PerfectSeparationIsOne) {
  EXPECT_EQ(auc(Scores{0.9, 0.8, 0.2, 0.1}, Labels{1, 1, 0, 0}), 1.0);
}

TEST(Auc, ReversedIsZero) {
  EXPECT_EQ(auc(Scores{0.9, 0.8, 0.2, 0.1}, Labels{0, 0, 1, 1}), 0.0);
}

TEST(Auc, AllTiedIsHalf) {
  EXPECT_EQ(auc(Scores{0.5, 0.5, 0.5, 0.5, 0.5}, Labels{1, 0, 0, 1, 0}), 0.5);
}

TEST(Auc, HandComputedWithTies) {
  // Members 0.9, 0.8; non-members 0.8, 0.3 (P = N = 2).
  // 0.9 beats both non-members: 2. 0.8 ties 0.8 (1/2) and beats 0.3 (1): 1.5. U = 3.5, AUC = 3.5/4.
  EXPECT_EQ(auc(Scores{0.9, 0.8, 0.8, 0.3}, Labels{1, 0, 1, 0}), 0.875);
}

TEST(Auc, HandComputedInterleaved) {
  // Members 5, 4, 2; non-members 4.5, 3, 1. 5 beats 3, 4 beats 2, 2 beats 1: U = 6, AUC = 6/9.
  EXPECT_DOUBLE_EQ(auc(Scores{5, 4.5, 4, 3, 2, 1}, Labels{1, 0, 1, 0, 1, 0}), 2.0 / 3.0);
}

TEST(Auc, InfiniteScoresAllowed) {
  EXPECT_EQ(auc(Scores{kInf, -kInf}, Labels{1, 0}), 1.0);
  EXPECT_EQ(auc(Scores{kInf, kInf, -kInf}, Labels{1, 0, 0}), 0.75);
}

TEST(Auc, MatchesBruteForceOnRandomDataWithTies) {
  Scores s;
  Labels y;
  for (std::uint64_t seed : {1u, 2u, 3u, 42u}) {
    random_case(seed, 400, s, y);
    ASSERT_LT(std::set<double>(s.begin(), s.end()).size(), s.size());  // ties really occur
    EXPECT_NEAR(auc(s, y), brute_force_auc(s, y), 1e-12) << "seed " << seed;
  }
}

TEST(Auc, InvariantToInputOrder) {
  Scores s;
  Labels y;
  random_case(7, 300, s, y);
  const double expected = auc(s, y);
  std::vector<std::size_t> perm(s.size());
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(99));
  Scores s2;
  Labels y2;
  for (std::size_t i : perm) {
    s2.push_back(s[i]);
    y2.push_back(y[i]);
  }
  EXPECT_EQ(auc(s2, y2), expected);
}

TEST(RocCurve, HandComputedWithTies) {
  const auto roc = roc_curve(Scores{0.9, 0.8, 0.8, 0.3}, Labels{1, 0, 1, 0});
  ASSERT_EQ(roc.size(), 4u);
  EXPECT_EQ(roc[0].fpr, 0.0);
  EXPECT_EQ(roc[0].tpr, 0.0);
  EXPECT_EQ(roc[0].threshold, kInf);
  EXPECT_EQ(roc[1].fpr, 0.0);
  EXPECT_EQ(roc[1].tpr, 0.5);
  EXPECT_EQ(roc[1].threshold, 0.9);
  EXPECT_EQ(roc[2].fpr, 0.5);  // the tied 0.8 pair enters together
  EXPECT_EQ(roc[2].tpr, 1.0);
  EXPECT_EQ(roc[2].threshold, 0.8);
  EXPECT_EQ(roc[3].fpr, 1.0);
  EXPECT_EQ(roc[3].tpr, 1.0);
  EXPECT_EQ(roc[3].threshold, 0.3);
}

TEST(RocCurve, InfiniteScores) {
  const auto roc = roc_curve(Scores{-kInf, kInf}, Labels{0, 1});
  ASSERT_EQ(roc.size(), 3u);
  EXPECT_EQ(roc[1].fpr, 0.0);
  EXPECT_EQ(roc[1].tpr, 1.0);
  EXPECT_EQ(roc[1].threshold, kInf);
  EXPECT_EQ(roc[2].threshold, -kInf);
}

TEST(RocCurve, EndpointsMonotonicityAndPointsMatchDirectCounts) {
  Scores s;
  Labels y;
  random_case(5, 300, s, y);
  const auto roc = roc_curve(s, y);
  const std::set<double> distinct(s.begin(), s.end());
  ASSERT_EQ(roc.size(), distinct.size() + 1);
  EXPECT_EQ(roc.front().fpr, 0.0);
  EXPECT_EQ(roc.front().tpr, 0.0);
  EXPECT_EQ(roc.front().threshold, kInf);
  EXPECT_EQ(roc.back().fpr, 1.0);
  EXPECT_EQ(roc.back().tpr, 1.0);
  EXPECT_EQ(roc.back().threshold, *distinct.begin());

  double p = 0, n = 0;
  for (auto v : y) (v ? p : n) += 1;
  for (std::size_t k = 1; k < roc.size(); ++k) {
    EXPECT_LT(roc[k].threshold, roc[k - 1].threshold);
    EXPECT_GE(roc[k].fpr, roc[k - 1].fpr);
    EXPECT_GE(roc[k].tpr, roc[k - 1].tpr);
    double tp = 0, fp = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] >= roc[k].threshold) (y[i] ? tp : fp) += 1;
    }
    EXPECT_EQ(roc[k].tpr, tp / p);
    EXPECT_EQ(roc[k].fpr, fp / n);
  }
}

TEST(TprAtFpr, HandCasesAtBounds) {
  const Scores s{0.9, 0.8, 0.8, 0.3};
  const Labels y{1, 0, 1, 0};
  EXPECT_EQ(tpr_at_fpr(s, y, 0.0), 0.5);  // the top member is found before any false positive
  EXPECT_EQ(tpr_at_fpr(s, y, 0.5), 1.0);  // the bound is inclusive
  EXPECT_EQ(tpr_at_fpr(s, y, 1.0), 1.0);
}

TEST(TprAtFpr, ZeroWhenTopScoreIsANonMember) {
  EXPECT_EQ(tpr_at_fpr(Scores{0.9, 0.8, 0.1}, Labels{0, 1, 0}, 0.0), 0.0);
  EXPECT_EQ(tpr_at_fpr(Scores{0.9, 0.8, 0.1}, Labels{0, 1, 0}, 0.49), 0.0);
  EXPECT_EQ(tpr_at_fpr(Scores{0.9, 0.8, 0.1}, Labels{0, 1, 0}, 0.5), 1.0);
}

TEST(TprAtFpr, StepOvershootingTheBoundIsNotInterpolated) {
  // ROC: (0,0) (0,1/3) (1/3,1/3) (1/3,2/3) (2/3,2/3) (2/3,1) (1,1).
  const Scores s{5, 4.5, 4, 3, 2, 1};
  const Labels y{1, 0, 1, 0, 1, 0};
  EXPECT_DOUBLE_EQ(tpr_at_fpr(s, y, 0.3), 1.0 / 3.0);  // next FPR, 1/3, overshoots 0.3
  EXPECT_DOUBLE_EQ(tpr_at_fpr(s, y, 0.5), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(tpr_at_fpr(s, y, 0.9), 1.0);
  EXPECT_EQ(tpr_at_fpr(roc_curve(s, y), 0.3), tpr_at_fpr(s, y, 0.3));
}

TEST(TprAtFpr, ReportedFprsAreInclusiveBoundaries) {
  // 100 non-members scored 0..99; members placed so they enter at FPR 0, exactly 0.01, exactly 0.1.
  Scores s;
  Labels y;
  for (int i = 0; i < 100; ++i) {
    s.push_back(i);
    y.push_back(0);
  }
  for (double m : {99.5, 98.5, 89.5, -1.0}) {
    s.push_back(m);
    y.push_back(1);
  }
  EXPECT_EQ(tpr_at_fpr(s, y, kReportedFprs[0]), 0.25);
  EXPECT_EQ(tpr_at_fpr(s, y, kReportedFprs[1]), 0.5);
  EXPECT_EQ(tpr_at_fpr(s, y, kReportedFprs[2]), 0.75);
}

TEST(Validation, EachInvalidInputThrows) {
  expect_invalid([] { auc(Scores(12, 0.5), Labels(11, 0)); }, "auc: 12 scores but 11 labels");
  expect_invalid([] { auc(Scores{}, Labels{}); }, "auc: no scores");
  expect_invalid([] { auc(Scores{0.1, 0.2}, Labels{0, 0}); }, "no members");
  expect_invalid([] { auc(Scores{0.1, 0.2}, Labels{1, 1}); }, "no non-members");
  expect_invalid([] { auc(Scores{0.1, std::nan("")}, Labels{1, 0}); }, "score 1 is NaN");
  expect_invalid([] { auc(Scores{0.1, 0.2}, Labels{1, 2}); }, "label 1 is 2");
  expect_invalid([] { roc_curve(Scores{0.1}, Labels{1, 0}); }, "roc_curve: 1 scores but 2 labels");
  expect_invalid([] { roc_curve(Scores{0.1, 0.2}, Labels{1, 1}); }, "roc_curve: no non-members");
  expect_invalid([] { tpr_at_fpr(Scores{0.1, 0.2}, Labels{0, 0}, 0.1); }, "tpr_at_fpr: no members");
  expect_invalid([] { tpr_at_fpr(Scores{0.1, 0.2}, Labels{1, 0}, -0.1); }, "max_fpr");
  expect_invalid([] { tpr_at_fpr(Scores{0.1, 0.2}, Labels{1, 0}, 1.5); }, "max_fpr");
  expect_invalid([] { tpr_at_fpr(Scores{0.1, 0.2}, Labels{1, 0}, std::nan("")); }, "max_fpr");
  expect_invalid([] { tpr_at_fpr(std::vector<RocPoint>{}, 0.1); }, "empty ROC curve");
}

}  // namespace
}  // namespace ganleaks::metrics
