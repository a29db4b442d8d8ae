#include "metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/seeding.h"

namespace ganleaks::metrics {

double quantile(std::vector<double>& values, double q) {
  if (values.empty()) throw std::invalid_argument("quantile: no values");
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("quantile: q = " + std::to_string(q) + " not in [0, 1]");
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const auto above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return values[below] + fraction * (values[above] - values[below]);
}

MetricIntervals bootstrap_intervals(std::span<const double> scores, std::span<const std::uint8_t> is_member,
                                    int resamples, std::uint64_t seed, double level) {
  if (resamples < 2) throw std::invalid_argument("bootstrap_intervals: resamples must be >= 2");
  if (!(level > 0.0 && level < 1.0)) throw std::invalid_argument("bootstrap_intervals: level must be in (0, 1)");
  (void)auc(scores, is_member);  // validates sizes, labels and NaNs with the metric's own messages
  std::vector<std::size_t> members, non_members;
  for (std::size_t i = 0; i < scores.size(); ++i) (is_member[i] ? members : non_members).push_back(i);

  Rng rng(derive_seed(seed, "bootstrap"));
  std::vector<double> sample_scores(scores.size());
  std::vector<std::uint8_t> sample_labels(scores.size());
  std::vector<double> aucs(resamples);
  std::array<std::vector<double>, kReportedFprs.size()> tprs;
  for (auto& t : tprs) t.resize(resamples);
  for (int r = 0; r < resamples; ++r) {
    std::size_t out = 0;
    for (const auto* group : {&members, &non_members}) {
      for (std::size_t j = 0; j < group->size(); ++j, ++out) {
        const auto pick = (*group)[rng.uniform(group->size())];
        sample_scores[out] = scores[pick];
        sample_labels[out] = is_member[pick];
      }
    }
    aucs[r] = auc(sample_scores, sample_labels);
    const auto roc = roc_curve(sample_scores, sample_labels);
    for (std::size_t f = 0; f < kReportedFprs.size(); ++f) tprs[f][r] = tpr_at_fpr(roc, kReportedFprs[f]);
  }
  const double tail = (1.0 - level) / 2.0;
  MetricIntervals out;
  out.auc = {quantile(aucs, tail), quantile(aucs, 1.0 - tail)};
  for (std::size_t f = 0; f < kReportedFprs.size(); ++f) out.tpr[f] = {quantile(tprs[f], tail), quantile(tprs[f], 1.0 - tail)};
  return out;
}

}  // namespace ganleaks::metrics
