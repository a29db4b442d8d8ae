#pragma once
// From canary scores to ε lower bounds (docs/privacy.md, "Auditing"): the guesses an audit makes and the counts
// privacy/audit_bounds.h turns into bounds. Losses follow membership/attack_record.h: lower = more member-like.
// No LibTorch; the null checks of tests/audit run these on synthetic scores.
#include <cstdint>
#include <span>
#include <vector>

namespace ganleaks::audit {

// Multi-run: `in_loss[i]` is run i's loss on the canary it trained with, `out_loss[i]` run i's without it. The
// first `threshold_runs` of each side choose the rule: a threshold t and a side, the canary guessed IN when its
// loss is below t (the expected side: training lowers the loss) or above it (any systematic difference between
// the runs with and without the canary is a leak, whichever its sign). Of the midpoints between consecutive
// distinct losses of those runs (and ±∞), on either side, the rule that maximises their own ε_LB wins, ties
// broken by fewer errors, then by "below", then by the lower t. The other runs, `trials` on each side, are
// counted: false positives are OUT runs guessed IN, false negatives IN runs guessed OUT.
struct MultiRunOutcome {
  double threshold = 0;
  bool in_above = false;  // the canary guessed IN when its loss > threshold (else when < threshold)
  std::int64_t threshold_runs = 0, trials = 0, false_positives = 0, false_negatives = 0;
  double epsilon_lb = 0;   // privacy/audit_bounds.h's Clopper–Pearson bound
  double gdp_mu = 0;       // the μ-GDP lower bound from the same upper rates
  double gdp_epsilon = 0;  // its ε at δ
  double ceiling = 0;      // ε_LB had every counted guess been right
};
MultiRunOutcome multi_run_outcome(std::span<const double> in_loss, std::span<const double> out_loss,
                                  std::int64_t threshold_runs, double delta, double confidence);

// One-run: m canaries' losses and whether each was trained on. The `guesses_in` lowest losses are guessed IN, the
// `guesses_out` highest OUT (ties in order of the canaries); r = guesses_in + guesses_out guesses, `correct` right.
struct OneRunOutcome {
  std::int64_t canaries = 0, guesses = 0, correct = 0;
  std::vector<std::int8_t> guess;  // per canary: +1 guessed IN, −1 guessed OUT, 0 no guess
  double epsilon_lb = 0;           // privacy/audit_bounds.h's one-run bound
  double ceiling = 0;              // ε_LB had every guess been right
};
OneRunOutcome one_run_outcome(std::span<const double> loss, std::span<const std::uint8_t> included,
                              std::int64_t guesses_in, std::int64_t guesses_out, double delta, double confidence);

}  // namespace ganleaks::audit
