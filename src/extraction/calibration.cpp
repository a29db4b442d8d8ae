#include "extraction/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "extraction/checks.h"

namespace ganleaks::extraction {
namespace {

using detail::fail;
using detail::number;

struct LabelCounts {
  std::size_t real = 0;
  std::size_t generated = 0;
};

LabelCounts validate_training_data(const char* where, std::span<const double> scores,
                                   std::span<const std::uint8_t> is_real) {
  if (scores.size() != is_real.size()) {
    fail(where, std::to_string(scores.size()) + " scores but " + std::to_string(is_real.size()) + " labels");
  }
  if (scores.empty()) fail(where, "no scores");
  LabelCounts counts;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      fail(where, "score " + std::to_string(i) + " is " + number(scores[i]) + ", not finite");
    }
    if (is_real[i] > 1) {
      fail(where, "label " + std::to_string(i) + " is " + std::to_string(is_real[i]) + ", not 0 or 1");
    }
    ++(is_real[i] ? counts.real : counts.generated);
  }
  if (counts.real == 0) fail(where, "no positive (real) example among " + std::to_string(scores.size()) + " scores");
  if (counts.generated == 0) {
    fail(where, "no negative (generated) example among " + std::to_string(scores.size()) + " scores");
  }
  return counts;
}

// ----- isotonic --------------------------------------------------------------------------------------------

// numpy.finfo(float64).resolution: sklearn's _make_unique merges scores closer than this to their group's first.
constexpr double kTieResolution = 1e-15;

struct Block {
  double sum_wy;
  double sum_w;
  std::size_t points;  // distinct scores pooled into this block
  double mean() const { return sum_wy / sum_w; }
};

// ----- Platt -----------------------------------------------------------------------------------------------

// One term of Platt's objective and of its derivatives at z = A s + B: t z + log(1 + e^-z), p = 1/(1 + e^z).
struct PlattTerm {
  double loss;
  double p;
};

PlattTerm platt_term(double z, double target) {
  if (z >= 0.0) {
    const double e = std::exp(-z);
    return {.loss = target * z + std::log1p(e), .p = e / (1.0 + e)};
  }
  const double e = std::exp(z);
  return {.loss = (target - 1.0) * z + std::log1p(e), .p = 1.0 / (1.0 + e)};
}

struct PlattTargets {
  double real;
  double generated;
};

PlattTargets platt_targets(const LabelCounts& counts) {
  const double n_real = static_cast<double>(counts.real);
  const double n_generated = static_cast<double>(counts.generated);
  return {.real = (n_real + 1.0) / (n_real + 2.0), .generated = 1.0 / (n_generated + 2.0)};
}

double objective(std::span<const double> f, std::span<const double> t, double a, double b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < f.size(); ++i) sum += platt_term(a * f[i] + b, t[i]).loss;
  return sum;
}

}  // namespace

// ----- Calibrator ------------------------------------------------------------------------------------------

Calibrator Calibrator::isotonic(std::span<const double> scores, std::span<const std::uint8_t> is_real) {
  validate_training_data("Calibrator::isotonic", scores, is_real);
  // Sorted by (score, label), as sklearn's np.lexsort((y, X)), so tied labels are summed in the same order.
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    return scores[i] != scores[j] ? scores[i] < scores[j] : is_real[i] < is_real[j];
  });

  // Distinct scores (sklearn's _make_unique): a group starts at a score at least kTieResolution above the
  // group's first score; its target is the mean label.
  std::vector<double> x, y, w;
  double group_x = scores[order[0]], group_sum = 0.0, group_weight = 0.0;
  for (std::size_t i : order) {
    if (scores[i] - group_x >= kTieResolution) {
      x.push_back(group_x);
      y.push_back(group_sum / group_weight);
      w.push_back(group_weight);
      group_x = scores[i];
      group_sum = 0.0;
      group_weight = 0.0;
    }
    group_sum += is_real[i];
    group_weight += 1.0;
  }
  x.push_back(group_x);
  y.push_back(group_sum / group_weight);
  w.push_back(group_weight);

  // Pool adjacent violators: a block whose mean exceeds its successor's is merged with it, backwards as far
  // as needed, so the block means end non-decreasing (equal means are no violation).
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < x.size(); ++i) {
    blocks.push_back({.sum_wy = w[i] * y[i], .sum_w = w[i], .points = 1});
    while (blocks.size() >= 2 && blocks[blocks.size() - 2].mean() > blocks.back().mean()) {
      const Block last = blocks.back();
      blocks.pop_back();
      blocks.back().sum_wy += last.sum_wy;
      blocks.back().sum_w += last.sum_w;
      blocks.back().points += last.points;
    }
  }
  std::vector<double> fitted;
  fitted.reserve(x.size());
  for (const Block& block : blocks) fitted.insert(fitted.end(), block.points, block.mean());

  // sklearn's trim_duplicates: interior points equal to both neighbours do not change the interpolation.
  Calibrator c;
  c.method_ = CalibrationMethod::kIsotonic;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const bool interior = i > 0 && i + 1 < x.size();
    if (interior && fitted[i] == fitted[i - 1] && fitted[i] == fitted[i + 1]) continue;
    c.thresholds_.push_back(x[i]);
    c.values_.push_back(fitted[i]);
  }
  return c;
}

Calibrator Calibrator::platt(std::span<const double> scores, std::span<const std::uint8_t> is_real) {
  const LabelCounts counts = validate_training_data("Calibrator::platt", scores, is_real);
  const PlattTargets targets = platt_targets(counts);
  const std::size_t n = scores.size();
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = is_real[i] ? targets.real : targets.generated;

  Calibrator c;
  c.method_ = CalibrationMethod::kPlatt;
  double scale = 0.0;
  for (double s : scores) scale = std::max(scale, std::abs(s));
  const bool constant = std::all_of(scores.begin(), scores.end(), [&](double s) { return s == scores[0]; });
  if (constant) {
    // Only A s + B is identified; the maximum-likelihood probability is the mean target.
    const double mean_target = std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(n);
    c.a_ = 0.0;
    c.b_ = std::log((1.0 - mean_target) / mean_target);
    return c;
  }

  // Lin, Lin & Weng (2007), Algorithm 1 (their pseudo-code's constants), on the scores scaled to [-1, 1];
  // the stopping tolerance is tighter than their 1e-5 because Newton converges quadratically here.
  std::vector<double> f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = scores[i] / scale;
  constexpr int kMaxIterations = 100;
  constexpr double kMinStep = 1e-10;
  constexpr double kHessianRidge = 1e-12;  // keeps the Hessian positive definite
  const double tolerance = 1e-14 * static_cast<double>(n);

  double a = 0.0;
  double b = std::log((static_cast<double>(counts.generated) + 1.0) / (static_cast<double>(counts.real) + 1.0));
  double value = objective(f, t, a, b);
  double last_rounding_gradient = std::numeric_limits<double>::infinity();
  int iteration = 0;
  for (; iteration < kMaxIterations; ++iteration) {
    double h11 = kHessianRidge, h22 = kHessianRidge, h21 = 0.0, g1 = 0.0, g2 = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double p = platt_term(a * f[i] + b, t[i]).p;
      const double d2 = p * (1.0 - p);
      h11 += f[i] * f[i] * d2;
      h22 += d2;
      h21 += f[i] * d2;
      const double d1 = t[i] - p;
      g1 += f[i] * d1;
      g2 += d1;
    }
    if (std::abs(g1) < tolerance && std::abs(g2) < tolerance) break;
    const double det = h11 * h22 - h21 * h21;
    const double da = -(h22 * g1 - h21 * g2) / det;
    const double db = -(-h21 * g1 + h11 * g2) / det;
    const double descent = g1 * da + g2 * db;
    // Near the optimum the predicted decrease (-descent / 2) falls below the rounding of the objective, where
    // the Armijo test can no longer tell; there full Newton steps are taken while they still shrink the gradient.
    const double rounding = 64.0 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(value));
    if (-descent <= rounding) {
      const double gradient = std::max(std::abs(g1), std::abs(g2));
      if (gradient >= last_rounding_gradient) break;
      last_rounding_gradient = gradient;
      a += da;
      b += db;
      value = objective(f, t, a, b);
      continue;
    }
    double step = 1.0;
    while (step >= kMinStep) {
      const double new_a = a + step * da, new_b = b + step * db;
      const double new_value = objective(f, t, new_a, new_b);
      if (new_value < value + 1e-4 * step * descent) {
        a = new_a;
        b = new_b;
        value = new_value;
        break;
      }
      step /= 2.0;
    }
    // No decrease along the Newton direction: at the optimum to machine precision.
    if (step < kMinStep) break;
  }
  c.a_ = a / scale;
  c.b_ = b;
  c.iterations_ = iteration;
  return c;
}

double Calibrator::probability(double score) const {
  if (!std::isfinite(score)) fail("Calibrator::probability", "score " + number(score) + " is not finite");
  if (method_ == CalibrationMethod::kPlatt) return platt_term(a_ * score + b_, 0.0).p;
  if (thresholds_.size() == 1) return values_[0];
  // scipy.interpolate.interp1d(kind="linear") after clipping to the fitted range, as sklearn predicts.
  const double s = std::clamp(score, thresholds_.front(), thresholds_.back());
  std::size_t hi = static_cast<std::size_t>(std::lower_bound(thresholds_.begin(), thresholds_.end(), s) -
                                            thresholds_.begin());
  hi = std::clamp<std::size_t>(hi, 1, thresholds_.size() - 1);
  const std::size_t lo = hi - 1;
  const double slope = (values_[hi] - values_[lo]) / (thresholds_[hi] - thresholds_[lo]);
  return slope * (s - thresholds_[lo]) + values_[lo];
}

std::vector<double> Calibrator::probabilities(std::span<const double> scores) const {
  std::vector<double> out;
  out.reserve(scores.size());
  for (double s : scores) out.push_back(probability(s));
  return out;
}

std::string_view Calibrator::method_name() const {
  return method_ == CalibrationMethod::kPlatt ? "platt" : "isotonic";
}

double platt_objective(std::span<const double> scores, std::span<const std::uint8_t> is_real, double a, double b) {
  const PlattTargets targets = platt_targets(validate_training_data("platt_objective", scores, is_real));
  double sum = 0.0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    sum += platt_term(a * scores[i] + b, is_real[i] ? targets.real : targets.generated).loss;
  }
  return sum;
}

}  // namespace ganleaks::extraction
