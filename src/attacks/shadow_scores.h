#pragma once
// Membership scores from shadow models (issue #19; docs/attacks.md, "Shadow models"): LiRA (Carlini et al., S&P
// 2022) and RMIA (Zarifzadeh et al., ICML 2024), from per-query signals of the target and of K shadow models
// trained like it on random halves of a population. Pure arithmetic on stored signals, no LibTorch: scores can be
// recomputed from results.h5, and the tests check them against numpy and scipy.
//
// Convention: a signal is larger for a more member-like query (membership/shadow.h turns each setting's loss
// into one), and every score here is larger for a more likely member.
#include <cstdint>
#include <span>
#include <vector>

namespace ganleaks::attacks {

// K shadow models' signals on Q queries, row-major (query, shadow), and whether each query was in each shadow's
// training set.
struct ShadowSignals {
  std::int64_t queries = 0, shadows = 0;
  std::vector<double> signal;    // Q × K
  std::vector<std::uint8_t> in;  // Q × K: 1 if the query was in that shadow's training set
  double at(std::int64_t q, std::int64_t k) const { return signal[static_cast<std::size_t>(q * shadows + k)]; }
  bool was_in(std::int64_t q, std::int64_t k) const { return in[static_cast<std::size_t>(q * shadows + k)] != 0; }
};

// Each query's Gaussian fit of its IN or OUT shadows' signals: the mean and the standard deviation (the
// maximum-likelihood one, dividing by the count), or a spread shared by all queries, the root mean square of
// every query's deviations from its own mean, which LiRA's authors advise when K is small (below 64): a
// per-query spread from a few shadows is too noisy.
enum class Spread { kPerQuery, kGlobal };
inline Spread default_spread(std::int64_t shadows) { return shadows < 64 ? Spread::kGlobal : Spread::kPerQuery; }

struct GaussianFit {
  double mean = 0, stddev = 0;
};
// std::invalid_argument when the sizes disagree, a query has no shadow on that side, or (kPerQuery) fewer than 2.
std::vector<GaussianFit> fit_shadows(const ShadowSignals& shadows, bool in, Spread spread);

// LiRA online: log N(s; μ_in, σ_in²) − log N(s; μ_out, σ_out²) per query, s the target's signal. As the authors'
// code (research/mi_lira_2021/plot.py), σ gets 1e-30 added, so that a query whose shadows all agree gives a
// finite score.
std::vector<double> lira_online(std::span<const double> target, const ShadowSignals& shadows, Spread spread);
// LiRA offline, one-sided as in the paper (Sec. IV-C): log Pr[Z ≤ s], Z ~ N(μ_out, σ_out²): large when the target
// scores above its OUT shadows. (The authors' plot.py ranks by the two-sided −log N(s; μ_out, σ_out²) instead,
// which also calls a query that scores far below its OUT shadows a member.)
std::vector<double> lira_offline(std::span<const double> target, const ShadowSignals& shadows, Spread spread);

// RMIA: p = Pr(x | θ) of the target and of each shadow (signals already turned into probabilities), on the
// queries x and on population records z that no model trained on. Pr(x) is the mean of Pr(x | θ_k) over all
// shadows (online) or ½((1 + a)·mean over OUT shadows + (1 − a)) (offline, RMIA's approximation from OUT models
// only); score(x) = the fraction of z with (Pr(x|θ)/Pr(x)) / (Pr(z|θ)/Pr(z)) > γ.
struct RmiaOptions {
  bool online = true;
  double a = 0.3;      // offline only; ml_privacy_meter's default
  double gamma = 1.0;  // the likelihood-ratio threshold of each pairwise comparison
};
std::vector<double> rmia(std::span<const double> target_queries, const ShadowSignals& shadow_queries,
                         std::span<const double> target_population, const ShadowSignals& shadow_population,
                         const RmiaOptions& options);

}  // namespace ganleaks::attacks
