#pragma once
// ROC analysis for membership inference: AUC, the ROC curve and TPR at a fixed low FPR.
//
// Convention: a higher score means "more likely a member"; is_member[i] is 1 for a member and
// 0 for a non-member. Every function taking scores and labels throws std::invalid_argument when
// the sizes differ, the input is empty, there are no members or no non-members, a score is NaN
// or a label is not 0/1. +/-inf scores are allowed.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace ganleaks::metrics {

struct RocPoint {
  double fpr;
  double tpr;
  double threshold;  // scores >= threshold are classified as members
};

// Mann-Whitney U / (P*N); a member/non-member tie counts one half. O(n log n), and exact up to
// the final division (2U is accumulated as an integer).
double auc(std::span<const double> scores, std::span<const std::uint8_t> is_member);

// One point per distinct score, thresholds descending, preceded by the "reject everything" point
// (0, 0, +inf) and ending at (1, 1, lowest score). If the highest score is itself +inf, the
// next point also carries threshold +inf; the first point is still meant as "nothing accepted".
std::vector<RocPoint> roc_curve(std::span<const double> scores,
                                std::span<const std::uint8_t> is_member);

// Carlini et al., "Membership Inference Attacks From First Principles": the largest TPR among ROC
// points with FPR <= max_fpr, without interpolation. max_fpr must lie in [0, 1].
double tpr_at_fpr(std::span<const RocPoint> roc, double max_fpr);
double tpr_at_fpr(std::span<const double> scores, std::span<const std::uint8_t> is_member,
                  double max_fpr);

// The FPRs the project reports (SPEC).
inline constexpr std::array<double, 3> kReportedFprs{0.001, 0.01, 0.1};

// Whether `non_members` queries resolve a TPR at FPR `fpr`: one false positive already is an FPR of
// 1 / non_members, so below 1 / fpr non-members the TPR at that FPR is the TPR at FPR 0 and says nothing
// about the rate asked for. Reports print "not resolved" there instead of a number (issue #19).
inline bool fpr_resolved(std::int64_t non_members, double fpr) {
  return static_cast<double>(non_members) * fpr >= 1 - 1e-9;  // 1000 · 0.001 is 1 within rounding
}

}  // namespace ganleaks::metrics
