#include "metrics/roc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace ganleaks::metrics {
namespace {

struct Counts {
  std::uint64_t members = 0;
  std::uint64_t non_members = 0;
};

Counts validate(const char* what, std::span<const double> scores,
                std::span<const std::uint8_t> is_member) {
  const std::string prefix = std::string(what) + ": ";
  if (scores.size() != is_member.size()) {
    throw std::invalid_argument(prefix + std::to_string(scores.size()) + " scores but " +
                                std::to_string(is_member.size()) + " labels");
  }
  if (scores.empty()) throw std::invalid_argument(prefix + "no scores");
  Counts c;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (std::isnan(scores[i])) {
      throw std::invalid_argument(prefix + "score " + std::to_string(i) + " is NaN");
    }
    if (is_member[i] > 1) {
      throw std::invalid_argument(prefix + "label " + std::to_string(i) + " is " +
                                  std::to_string(is_member[i]) + ", not 0 or 1");
    }
    ++(is_member[i] ? c.members : c.non_members);
  }
  if (c.members == 0) throw std::invalid_argument(prefix + "no members");
  if (c.non_members == 0) throw std::invalid_argument(prefix + "no non-members");
  return c;
}

// Indices ordered by score, highest first; ties are then handled group by group.
std::vector<std::size_t> order_descending(std::span<const double> scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  return order;
}

void check_max_fpr(double max_fpr) {
  if (!(max_fpr >= 0.0 && max_fpr <= 1.0)) {
    throw std::invalid_argument("tpr_at_fpr: max_fpr " + std::to_string(max_fpr) +
                                " is not in [0, 1]");
  }
}

}  // namespace

double auc(std::span<const double> scores, std::span<const std::uint8_t> is_member) {
  const Counts c = validate("auc", scores, is_member);
  const auto order = order_descending(scores);
  // Twice U, so the half credit for ties stays an integer.
  std::uint64_t twice_u = 0;
  std::uint64_t non_members_above = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::uint64_t m = 0, k = 0;
    std::size_t j = i;
    for (; j < order.size() && scores[order[j]] == scores[order[i]]; ++j) {
      ++(is_member[order[j]] ? m : k);
    }
    const std::uint64_t non_members_below = c.non_members - non_members_above - k;
    twice_u += m * (2 * non_members_below + k);
    non_members_above += k;
    i = j;
  }
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(c.members) * static_cast<double>(c.non_members));
}

std::vector<RocPoint> roc_curve(std::span<const double> scores,
                                std::span<const std::uint8_t> is_member) {
  const Counts c = validate("roc_curve", scores, is_member);
  const auto order = order_descending(scores);
  const double p = static_cast<double>(c.members);
  const double n = static_cast<double>(c.non_members);
  std::vector<RocPoint> roc{{0.0, 0.0, std::numeric_limits<double>::infinity()}};
  std::uint64_t tp = 0, fp = 0;
  for (std::size_t i = 0; i < order.size();) {
    const double t = scores[order[i]];
    for (; i < order.size() && scores[order[i]] == t; ++i) ++(is_member[order[i]] ? tp : fp);
    // Divide counts rather than accumulate increments, so the last point is exactly (1, 1).
    roc.push_back({static_cast<double>(fp) / n, static_cast<double>(tp) / p, t});
  }
  return roc;
}

double tpr_at_fpr(std::span<const RocPoint> roc, double max_fpr) {
  check_max_fpr(max_fpr);
  if (roc.empty()) throw std::invalid_argument("tpr_at_fpr: empty ROC curve");
  double best = 0.0;
  for (const RocPoint& pt : roc) {
    if (pt.fpr <= max_fpr) best = std::max(best, pt.tpr);
  }
  return best;
}

double tpr_at_fpr(std::span<const double> scores, std::span<const std::uint8_t> is_member,
                  double max_fpr) {
  check_max_fpr(max_fpr);
  validate("tpr_at_fpr", scores, is_member);
  return tpr_at_fpr(roc_curve(scores, is_member), max_fpr);
}

}  // namespace ganleaks::metrics
