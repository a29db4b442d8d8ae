#pragma once
// Percentile-bootstrap confidence intervals for the membership metrics (AUC, TPR at FPR), over queries.
//
// Resampling is stratified: members and non-members are each drawn with replacement at their own counts,
// so every resample has both classes and the same base rate as the query set. Seeded and platform
// independent (core/seeding.h), so intervals are identical on every machine and rank count.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "metrics/roc.h"

namespace ganleaks::metrics {

struct Interval {
  double low = 0, high = 0;
};

struct MetricIntervals {
  Interval auc;
  std::array<Interval, kReportedFprs.size()> tpr;  // at kReportedFprs
};

// `level` (e.g. 0.95) two-sided percentile intervals from `resamples` stratified resamples; quantiles
// interpolate linearly between order statistics (numpy's default). resamples must be >= 2.
MetricIntervals bootstrap_intervals(std::span<const double> scores, std::span<const std::uint8_t> is_member,
                                    int resamples, std::uint64_t seed, double level = 0.95);

// The q-quantile (0 <= q <= 1) of values, linear interpolation between order statistics; sorts `values`.
double quantile(std::vector<double>& values, double q);

}  // namespace ganleaks::metrics
