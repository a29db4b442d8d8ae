#pragma once
// Calibration of accuracy extraction (SPEC §3; Hu & Pang, ACSAC 2021, Sec. 6): the attacker turns the target
// discriminator's raw logits into P(real | logit) on partial real data vs generated samples, by isotonic regression
// or Platt scaling (as scikit-learn's CalibratedClassifierCV computes them). Pure math on numbers; every function
// throws std::invalid_argument, naming the function and the offending value, on bad input.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ganleaks::extraction {

// ---------------------------------------------------------------------------------------------------------
// Calibration: raw discriminator scores (logits, any finite reals) -> P(real | score).

enum class CalibrationMethod { kIsotonic, kPlatt };

class Calibrator {
 public:
  // Isotonic regression (Zadrozny & Elkan 2002) of is_real on score, non-decreasing, with the semantics of
  // sklearn.isotonic.IsotonicRegression(increasing=True, out_of_bounds="clip"): scores closer than 1e-15
  // (numpy's float64 resolution, absolute) to the smallest score of their group are one point whose target
  // is the mean label of the group and whose weight is its size; pool-adjacent-violators on the weighted
  // means; predictions interpolate linearly between the fitted points and clip to the end values outside
  // [min score, max score]; a single distinct score predicts its mean label everywhere.
  static Calibrator isotonic(std::span<const double> scores, std::span<const std::uint8_t> is_real);

  // Platt scaling (Platt 1999) as improved by Lin, Lin & Weng (2007): P(real | s) = 1 / (1 + exp(A s + B))
  // minimising the cross-entropy against the smoothed targets t+ = (N+ + 1)/(N+ + 2) for real and
  // t- = 1/(N- + 2) for generated samples (platt_objective), by Newton's method with backtracking line search
  // from A = 0, B = log((N- + 1)/(N+ + 1)); scores are divided by max |s| while fitting (the optimum is
  // scale-equivariant), and the iteration stops when the scaled gradient is below 1e-14 per sample or stops
  // shrinking at the rounding level. This is the objective of sklearn.calibration._sigmoid_calibration, which
  // minimises it with L-BFGS only to gtol 1e-6 (on the sum), so its A, B lie ~1e-6/(0.1 n) from this optimum.
  // When every score is the same, A = 0 and B = log((1 - t)/t) with t the mean target (only A s + B is
  // identified; sklearn's L-BFGS returns another (A, B) with the same prediction there).
  static Calibrator platt(std::span<const double> scores, std::span<const std::uint8_t> is_real);

  // P(real | score) in [0, 1]; isotonic values can be exactly 0 or 1 (see clamp_probability). The score must
  // be finite.
  double probability(double score) const;
  std::vector<double> probabilities(std::span<const double> scores) const;

  CalibrationMethod method() const { return method_; }
  std::string_view method_name() const;  // "isotonic" or "platt"

  // Isotonic: the fitted points, thresholds strictly increasing and values non-decreasing, with sklearn's
  // X_thresholds_ / y_thresholds_ trimming (interior points equal to both neighbours dropped). Empty for Platt.
  std::span<const double> thresholds() const { return thresholds_; }
  std::span<const double> values() const { return values_; }
  // Platt: A and B of 1 / (1 + exp(A s + B)); A < 0 when a higher logit means "more likely real". 0 for
  // isotonic.
  double platt_a() const { return a_; }
  double platt_b() const { return b_; }
  // Newton iterations the Platt fit took (0 for isotonic and for constant scores).
  int platt_iterations() const { return iterations_; }

 private:
  Calibrator() = default;

  CalibrationMethod method_ = CalibrationMethod::kIsotonic;
  std::vector<double> thresholds_;
  std::vector<double> values_;
  double a_ = 0.0;
  double b_ = 0.0;
  int iterations_ = 0;
};

// Platt's objective: sum_i [ t_i (A s_i + B) + log(1 + exp(-(A s_i + B))) ], the cross-entropy of
// 1/(1 + exp(A s + B)) against the smoothed targets t_i above (sklearn's HalfBinomialLoss summed). Exposed for
// tests and diagnostics; validates like Calibrator::platt.
double platt_objective(std::span<const double> scores, std::span<const std::uint8_t> is_real, double a, double b);

}  // namespace ganleaks::extraction
