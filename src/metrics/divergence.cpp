#include "metrics/divergence.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ganleaks::metrics {

namespace {

std::vector<double> normalised(std::span<const double> h, const char* which) {
  double sum = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (!std::isfinite(h[i]) || h[i] < 0) {
      throw std::invalid_argument(std::string("js_divergence: ") + which + "[" + std::to_string(i) + "] = " +
                                  std::to_string(h[i]) + "; expected a finite value >= 0");
    }
    sum += h[i];
  }
  if (!(sum > 0)) throw std::invalid_argument(std::string("js_divergence: ") + which + " sums to 0");
  std::vector<double> out(h.begin(), h.end());
  for (auto& x : out) x /= sum;
  return out;
}

// g(d) = (1 + d) ln(1 + d) + (1 − d) ln(1 − d) for d in [−1, 1], without cancellation near d = 0, where the
// series Σ_k d^{2k} / (k (2k − 1)) = d² + d⁴/6 + … takes over (its terms fall by at least d² = 0.01 each).
double g(double d) {
  const double a = std::abs(d);
  if (a == 1.0) return 2.0 * std::log(2.0);
  if (a >= 0.1) return (1 + a) * std::log1p(a) + (1 - a) * std::log1p(-a);
  const double d2 = d * d;
  double power = d2, sum = 0;
  for (int k = 1; k <= 12; ++k, power *= d2) sum += power / (k * (2.0 * k - 1));
  return sum;
}

}  // namespace

std::vector<double> class_histogram(std::span<const std::int64_t> labels, int classes) {
  if (classes < 1) throw std::invalid_argument("class_histogram: classes must be >= 1, got " + std::to_string(classes));
  if (labels.empty()) throw std::invalid_argument("class_histogram: no labels");
  std::vector<double> counts(static_cast<std::size_t>(classes), 0.0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw std::invalid_argument("class_histogram: label " + std::to_string(labels[i]) + " at index " +
                                  std::to_string(i) + " outside [0, " + std::to_string(classes) + ")");
    }
    counts[static_cast<std::size_t>(labels[i])] += 1.0;
  }
  for (auto& c : counts) c /= static_cast<double>(labels.size());
  return counts;
}

double js_divergence(std::span<const double> p, std::span<const double> q) {
  if (p.size() != q.size() || p.empty()) {
    throw std::invalid_argument("js_divergence: histograms of " + std::to_string(p.size()) + " and " +
                                std::to_string(q.size()) + " bins; expected the same, non-zero number");
  }
  const auto a = normalised(p, "p"), b = normalised(q, "q");
  // Bin by bin, ½ [a ln(a/m) + b ln(b/m)] = (a + b)/4 · g((a − b)/(a + b)) >= 0: a sum of non-negative terms,
  // so near-identical histograms do not lose their small divergence to cancellation (0 ln 0 = 0: g(±1)).
  double js = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double s = a[i] + b[i];
    if (s > 0) js += 0.25 * s * g((a[i] - b[i]) / s);
  }
  return std::clamp(js, 0.0, std::log(2.0));  // rounding can step a hair outside [0, ln 2]
}

}  // namespace ganleaks::metrics
