#pragma once
// Empirical lower bounds on a DP-SGD run's ε from an audit's outcomes (issue #20; docs/privacy.md, "Auditing"):
// what `ganleaks audit-bound` prints, and what the audit task will compute from its canaries' scores. Statistics
// from Boost.Math (Beta, binomial and normal distributions); no LibTorch.
#include <cstdint>

namespace ganleaks::privacy {

// Multi-run audit (Jagielski et al. 2020; Nasr et al. 2021): T runs with the canary and T without, F false
// positives and N false negatives of a fixed threshold. FPR̄ and FNR̄ are the upper ends of two-sided
// Clopper–Pearson intervals at level `confidence`: the 1 − (1 − c)/2 quantiles of Beta(F + 1, T − F) and
// Beta(N + 1, T − N), and 1 when F = T (N = T).
struct MultiRunAudit {
  std::int64_t false_positives = 0, false_negatives = 0, trials = 0;
  double delta = 0, confidence = 0.95;
};
double clopper_pearson_upper(std::int64_t errors, std::int64_t trials, double confidence);
// ε_LB = max(ln((1 − δ − FPR̄)/FNR̄), ln((1 − δ − FNR̄)/FPR̄)), and 0 when neither is positive.
double epsilon_lower_bound(const MultiRunAudit& audit);
// The Gaussian-DP bound from the same rates: μ = Φ⁻¹(1 − FPR̄) − Φ⁻¹(FNR̄) (0 if negative), then the ε at which
// μ-GDP's δ(ε) = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2) equals δ (Dong, Roth & Su 2019, Cor. 2.13); +∞ at δ = 0.
double gdp_mu_lower_bound(const MultiRunAudit& audit);
double gdp_epsilon(double mu, double delta);

// One-run audit (Steinke, Nasr & Jagielski, NeurIPS 2023): m canaries each included with probability ½, r guesses,
// v of them right. The p-value of v or more right guesses under (ε, δ)-DP is
//   P[Binomial(r, e^ε/(1 + e^ε)) ≥ v] + 2mδ · max_{1 ≤ i ≤ v} P[v > Binomial(r, ·) ≥ v − i] / i
// (their Theorem 5.2, capped at 1); ε_LB is the largest ε whose p-value stays below 1 − confidence, by bisection,
// and 0 when the p-value at ε = 0 already exceeds it.
struct OneRunAudit {
  std::int64_t canaries = 0, guesses = 0, correct = 0;
  double delta = 0, confidence = 0.95;
};
double one_run_p_value(const OneRunAudit& audit, double epsilon);
double epsilon_lower_bound(const OneRunAudit& audit);

}  // namespace ganleaks::privacy
