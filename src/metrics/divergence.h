#pragma once
// Class histograms and the Jensen–Shannon divergence between them (Lin 1991, "Divergence measures based on the
// Shannon entropy"): SPEC §3's "JS distance" between the class histograms of the training data, the target's
// samples and the attack's samples, classes from a classifier trained on the real data (metrics/features.h
// ClassifierExtractor::predict_classes; Stealing GANs, appendix Tables 8–9).
//
//   JS(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m),  m = ½ (p + q),  KL(p ‖ m) = Σ_i p_i ln(p_i / m_i),
//
// with the natural logarithm, so 0 ≤ JS ≤ ln 2 (disjoint supports). Bins with p_i = 0 contribute 0 (the limit
// of x ln x). This is the DIVERGENCE, which the paper's "JS distance" tables print ×10⁻³ (it does not say so, but
// read as the square root its smallest value, 1.6×10⁻³ over ~30 classes, would sit far below the sampling noise
// of 50 000-sample histograms, ~12×10⁻³; as a divergence that noise is ~0.15×10⁻³).
// scipy.spatial.distance.jensenshannon(p, q) returns the distance √JS: compare with its square.
#include <cstdint>
#include <span>
#include <vector>

namespace ganleaks::metrics {

// Fraction of labels in each class 0..classes-1 (sums to 1). std::invalid_argument for classes < 1, no labels,
// or a label outside [0, classes).
std::vector<double> class_histogram(std::span<const std::int64_t> labels, int classes);

// JS divergence (natural log) of two histograms of equal length; each is normalised to sum 1 first.
// std::invalid_argument for different or zero lengths, a negative or non-finite entry, or a zero sum.
double js_divergence(std::span<const double> p, std::span<const double> q);

}  // namespace ganleaks::metrics
