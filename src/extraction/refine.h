#pragma once
// Sample refiners of accuracy extraction (SPEC §3; Hu & Pang, "Stealing Machine Learning Models: Attacks and
// Countermeasures for Generative Adversarial Networks", ACSAC 2021, Sec. 6 and Algorithm 1): the attacker
// calibrates the target discriminator D on partial real data vs generated samples, then keeps the generated
// samples that D says are real, by
//   - Metropolis-Hastings independence chains (Turner et al., "Metropolis-Hastings Generative Adversarial
//     Networks", ICML 2019; reference code uber-research/metropolis-hastings-gans, mhgan/mh.py and
//     mhgan/demo_mhgan.py), or
//   - Discriminator Rejection Sampling (Azadi et al., "Discriminator Rejection Sampling", ICLR 2019, Alg. 1).
// Pure math on numbers: the caller generates the samples, evaluates D (raw logits) and draws the uniforms
// from its seeded streams. Every function throws std::invalid_argument, naming the function and the offending
// value, on bad input. Calibration: extraction/calibration.h.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "extraction/calibration.h"

namespace ganleaks::extraction {

// ---------------------------------------------------------------------------------------------------------
// Metropolis-Hastings independence chains (Turner et al. 2019; Hu & Pang 2021, Algorithm 1).

// Probabilities that enter the acceptance ratio are kept in [kProbabilityEpsilon, 1 - kProbabilityEpsilon]:
// isotonic calibration returns exactly 0 or 1 at the ends, where the odds 1/D - 1 would be infinite.
// mh_log_acceptance and mh_independence_chain apply clamp_probability themselves; callers need not.
inline constexpr double kProbabilityEpsilon = 1e-6;

// p clamped to [kProbabilityEpsilon, 1 - kProbabilityEpsilon]; p must lie in [0, 1].
double clamp_probability(double p);

// log α for a move from a state with calibrated D(x) = current_probability to a proposal with
// D(x') = proposal_probability: min(0, logit D(x') - logit D(x)), which is
// log min(1, (1/D(x) - 1) / (1/D(x') - 1)), on clamped probabilities.
double mh_log_acceptance(double current_probability, double proposal_probability);

struct MhChain {
  std::int64_t index;     // the proposal the chain ends on, 0-based into proposal_probabilities
  bool restarted;         // the chain from the real start accepted nothing and was run again (below)
  std::int64_t accepted;  // accepted moves in the run that produced `index`
};

// One independence chain over K = proposal_probabilities.size() >= 1 proposals x_1..x_K (generated samples,
// calibrated D values), started at a real sample with calibrated D = start_probability. Step k proposes x_k
// and moves there when u_k <= α (uniforms[k-1]; "if u <= p" in Hu & Pang's Algorithm 1, and Turner et al.'s
// `random.rand() <= alpha`; u = 0 always moves). The result is the final state when it is a generated sample
// (restarted = false; accepted >= 1).
//
// Restart rule: when no proposal was accepted, the chain still sits on the real start, which must not be
// returned. It is run again over the same proposals with x_1 as the start state (taken unconditionally, not
// counted in `accepted`) and x_2..x_K proposed in turn, so that every chain yields a generated sample and
// costs exactly K generator calls; restarted = true, and index = 0 when this second run accepts nothing.
// The uniforms of the second run: `restart_uniforms` (K - 1 values, for x_2..x_K) when given. This is what
// Turner et al.'s code does: demo_mhgan.py's enhance_samples calls mh_sample(s_[1:]) again when the first
// call returned the real point (idx == 0; "Try again but init from first fake"), and mh_sample draws fresh
// uniforms (random.rand(len(d_score))). When restart_uniforms is empty, the first run's u_2..u_K are reused,
// so K uniforms make one chain. Reuse shifts the output slightly: the first run rejected x_k from the real
// start only if u_k > α(start, x_k), so the reused u_k are larger than uniform and the second run accepts
// less often than a fresh one (test_refine: total variation 0.006 between the two rules' exact output
// distributions when 23 % of the chains restart; the restart itself moves the output much further from the
// target). Fresh uniforms reproduce Turner et al.'s procedure.
//
// uniforms: K values in [0, 1]; probabilities in [0, 1] (clamped as above).
MhChain mh_independence_chain(double start_probability, std::span<const double> proposal_probabilities,
                              std::span<const double> uniforms, std::span<const double> restart_uniforms = {});

// ---------------------------------------------------------------------------------------------------------
// Discriminator Rejection Sampling (Azadi et al. 2019, Sec. 3.2 and Alg. 1).

// F(x) = D̃(x) - D̃*_max - log(1 - exp(D̃(x) - D̃*_max - ε)), without the -γ shift. logit <= max_logit and
// epsilon > 0 (the log1mexp is evaluated stably; at D̃(x) = D̃*_max it is log(1 - e^-ε)).
double drs_f(double logit, double max_logit, double epsilon);

// σ(F(x) - γ), the probability of keeping a sample with raw logit D̃(x).
double drs_acceptance_probability(double logit, double max_logit, double gamma, double epsilon);

struct DrsResult {
  std::vector<std::int64_t> accepted;         // indices into `logits` of the kept samples, ascending
  double max_logit;                           // D̃*_max after the last sample (burn-in maximum, then raised)
  double gamma;                               // the shift γ, fixed on the burn-in
  std::vector<double> acceptance_probability;  // σ(F(x_i) - γ) per sample, with the running D̃*_max
};

// Azadi et al.'s Alg. 1 on raw discriminator logits D̃ (before the sigmoid): D̃*_max starts as the maximum
// over burn_in_logits (BurnIn, line 2) and is raised whenever a sample's logit exceeds it, before that
// sample's acceptance probability is computed (lines 6-9; such a sample gets F = -log(1 - e^-ε) - γ).
// γ: the paper's "hyperparameter modulating overall acceptance probability", which it sets to the 95th
// percentile of F; here the gamma_quantile-quantile of F over the burn-in samples (with the burn-in maximum),
// linear interpolation between order statistics as numpy.percentile's default, and then held fixed, so that
// the acceptance probability is a fixed function of x once D̃*_max stops moving. (Turner et al.'s
// rejection_sample instead takes the percentile over each batch of candidates.) Sample i is kept when
// uniforms[i] <= σ(F(x_i) - γ) (the paper's ψ <= p).
// burn_in_logits non-empty, all finite; uniforms.size() == logits.size(), values in [0, 1];
// gamma_quantile in [0, 1]; epsilon > 0.
DrsResult discriminator_rejection_sampling(std::span<const double> burn_in_logits, std::span<const double> logits,
                                           std::span<const double> uniforms, double gamma_quantile = 0.95,
                                           double epsilon = 1e-6);

}  // namespace ganleaks::extraction
