#include "audit/procedure.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "privacy/audit_bounds.h"

namespace ganleaks::audit {
namespace {

struct Errors {
  std::int64_t false_positives = 0, false_negatives = 0;
};
Errors errors_at(double threshold, bool in_above, std::span<const double> in_loss, std::span<const double> out_loss) {
  const auto guessed_in = [&](double l) { return in_above ? l > threshold : l < threshold; };
  Errors e;
  for (const double l : out_loss) e.false_positives += guessed_in(l) ? 1 : 0;
  for (const double l : in_loss) e.false_negatives += guessed_in(l) ? 0 : 1;
  return e;
}

}  // namespace

MultiRunOutcome multi_run_outcome(std::span<const double> in_loss, std::span<const double> out_loss,
                                  std::int64_t threshold_runs, double delta, double confidence) {
  const auto runs = static_cast<std::int64_t>(in_loss.size());
  if (static_cast<std::int64_t>(out_loss.size()) != runs || threshold_runs < 1 || threshold_runs >= runs) {
    throw std::invalid_argument("multi_run_outcome: T runs on each side and 1 <= threshold_runs < T expected");
  }
  const auto choose_in = in_loss.first(static_cast<std::size_t>(threshold_runs));
  const auto choose_out = out_loss.first(static_cast<std::size_t>(threshold_runs));
  std::vector<double> values(choose_in.begin(), choose_in.end());
  values.insert(values.end(), choose_out.begin(), choose_out.end());
  std::ranges::sort(values);
  values.erase(std::unique(values.begin(), values.end()), values.end());
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> candidates{-kInf};
  for (std::size_t i = 0; i + 1 < values.size(); ++i) candidates.push_back(std::midpoint(values[i], values[i + 1]));
  candidates.push_back(kInf);

  MultiRunOutcome out{.threshold_runs = threshold_runs, .trials = runs - threshold_runs};
  double best_bound = -1;
  std::int64_t best_errors = 0;
  for (const bool in_above : {false, true}) {  // "below" first and candidates ascending: ties keep those
    for (const double t : candidates) {
      const auto e = errors_at(t, in_above, choose_in, choose_out);
      const double bound = privacy::epsilon_lower_bound(privacy::MultiRunAudit{
          .false_positives = e.false_positives, .false_negatives = e.false_negatives, .trials = threshold_runs,
          .delta = delta, .confidence = confidence});
      const auto errors = e.false_positives + e.false_negatives;
      if (bound > best_bound || (bound == best_bound && errors < best_errors)) {
        best_bound = bound, best_errors = errors, out.threshold = t, out.in_above = in_above;
      }
    }
  }
  const auto counted = errors_at(out.threshold, out.in_above, in_loss.subspan(static_cast<std::size_t>(threshold_runs)),
                                 out_loss.subspan(static_cast<std::size_t>(threshold_runs)));
  out.false_positives = counted.false_positives;
  out.false_negatives = counted.false_negatives;
  const privacy::MultiRunAudit audit{.false_positives = out.false_positives, .false_negatives = out.false_negatives,
                                     .trials = out.trials, .delta = delta, .confidence = confidence};
  out.epsilon_lb = privacy::epsilon_lower_bound(audit);
  out.gdp_mu = privacy::gdp_mu_lower_bound(audit);
  out.gdp_epsilon = privacy::gdp_epsilon(out.gdp_mu, delta);
  out.ceiling = privacy::epsilon_lower_bound(
      privacy::MultiRunAudit{.trials = out.trials, .delta = delta, .confidence = confidence});
  return out;
}

OneRunOutcome one_run_outcome(std::span<const double> loss, std::span<const std::uint8_t> included,
                              std::int64_t guesses_in, std::int64_t guesses_out, double delta, double confidence) {
  const auto m = static_cast<std::int64_t>(loss.size());
  if (static_cast<std::int64_t>(included.size()) != m || guesses_in < 0 || guesses_out < 0 ||
      guesses_in + guesses_out > m) {
    throw std::invalid_argument("one_run_outcome: one inclusion per canary and guesses_in + guesses_out <= m expected");
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(m));
  std::iota(order.begin(), order.end(), 0);
  std::ranges::stable_sort(order, [&](std::int64_t a, std::int64_t b) { return loss[a] < loss[b]; });
  OneRunOutcome out{.canaries = m, .guesses = guesses_in + guesses_out, .guess = std::vector<std::int8_t>(order.size(), 0)};
  for (std::int64_t i = 0; i < guesses_in; ++i) out.guess[order[i]] = 1;
  for (std::int64_t i = m - guesses_out; i < m; ++i) out.guess[order[i]] = -1;
  for (std::int64_t i = 0; i < m; ++i) {
    out.correct += (out.guess[i] == 1 && included[i]) || (out.guess[i] == -1 && !included[i]) ? 1 : 0;
  }
  const privacy::OneRunAudit audit{.canaries = m, .guesses = out.guesses, .correct = out.correct, .delta = delta,
                                   .confidence = confidence};
  out.epsilon_lb = privacy::epsilon_lower_bound(audit);
  auto perfect = audit;
  perfect.correct = out.guesses;
  out.ceiling = privacy::epsilon_lower_bound(perfect);
  return out;
}

}  // namespace ganleaks::audit
