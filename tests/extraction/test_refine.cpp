// MH independence chains and DRS (extraction/refine.h): hand cases, the restart rule, and the output distribution
// against the target; Turner et al.'s code and numpy agree in check_calibration.py.
#include "extraction/refine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "refine_testing.h"

namespace ganleaks::extraction {
namespace {

using namespace ganleaks::extraction::test_support;

// ----- MH --------------------------------------------------------------------------------------------------

TEST(MhAcceptance, HandCases) {
  // D(x') >= D(x): always accepted.
  EXPECT_EQ(mh_log_acceptance(0.3, 0.7), 0.0);
  EXPECT_EQ(mh_log_acceptance(0.5, 0.5), 0.0);
  // D(x) = 0.5, D(x') = 0.25: α = (1/0.5 - 1)/(1/0.25 - 1) = 1/3.
  EXPECT_NEAR(std::exp(mh_log_acceptance(0.5, 0.25)), 1.0 / 3.0, 1e-15);
  // D(x) = 0.9, D(x') = 0.6: α = (1/9)/(2/3) = 1/6.
  EXPECT_NEAR(std::exp(mh_log_acceptance(0.9, 0.6)), 1.0 / 6.0, 1e-15);
  // Clamped to [1e-6, 1 - 1e-6]: from D = 1 to D = 0, α = (ε/(1-ε))² instead of 0.
  const double odds = kProbabilityEpsilon / (1.0 - kProbabilityEpsilon);
  EXPECT_NEAR(mh_log_acceptance(1.0, 0.0), 2.0 * std::log(odds), 1e-9);
  EXPECT_EQ(mh_log_acceptance(1.0, 1.0), 0.0);
  EXPECT_EQ(clamp_probability(0.0), kProbabilityEpsilon);
  EXPECT_EQ(clamp_probability(1.0), 1.0 - kProbabilityEpsilon);
  EXPECT_EQ(clamp_probability(0.3), 0.3);
  expect_invalid([] { clamp_probability(1.5); }, "probability 1.5 is not in [0, 1]");
  expect_invalid([] { clamp_probability(NAN); }, "not in [0, 1]");
}

TEST(MhIndependenceChain, AcceptsWhenTheUniformIsAtMostAlpha) {
  const Scores proposal{0.25};
  const MhChain below = mh_independence_chain(0.5, proposal, Scores{1.0 / 3.0 - 1e-9});
  EXPECT_EQ(below.index, 0);
  EXPECT_FALSE(below.restarted);
  EXPECT_EQ(below.accepted, 1);
  const MhChain above = mh_independence_chain(0.5, proposal, Scores{1.0 / 3.0 + 1e-9});
  EXPECT_EQ(above.index, 0);  // rejected, restarted from the first (and only) proposal
  EXPECT_TRUE(above.restarted);
  EXPECT_EQ(above.accepted, 0);
  // u = 0 always moves; u = 1 moves only when α = 1.
  EXPECT_FALSE(mh_independence_chain(1.0, Scores{0.0}, Scores{0.0}).restarted);
  const MhChain better = mh_independence_chain(0.5, Scores{0.6, 0.6, 0.9}, Scores{1.0, 1.0, 1.0});
  EXPECT_EQ(better.index, 2);
  EXPECT_EQ(better.accepted, 3);
  // Clamping makes the 0 -> 1 move possible with a tiny α = ((ε/(1-ε))² ≈ 1e-12.
  EXPECT_FALSE(mh_independence_chain(1.0, Scores{0.0}, Scores{1e-13}).restarted);
  EXPECT_TRUE(mh_independence_chain(1.0, Scores{0.0}, Scores{1e-11}).restarted);
}

TEST(MhIndependenceChain, EndsOnTheLastAcceptedProposal) {
  // From 0.5: 0.6 accepted (α = 1); 0.4 from 0.6: α = (2/3)/(3/2) = 4/9 < 0.99, rejected; 0.7 accepted;
  // 0.1 from 0.7: α = (1/9)/(7/3) = 1/21 < 0.5, rejected.
  const MhChain chain = mh_independence_chain(0.5, Scores{0.6, 0.4, 0.7, 0.1}, Scores{0.9, 0.99, 0.9, 0.5});
  EXPECT_EQ(chain.index, 2);
  EXPECT_FALSE(chain.restarted);
  EXPECT_EQ(chain.accepted, 2);
  // The same with u = 0.4 at the second step: 0.4 <= 4/9 accepted, so three moves.
  EXPECT_EQ(mh_independence_chain(0.5, Scores{0.6, 0.4, 0.7, 0.1}, Scores{0.9, 0.4, 0.9, 0.5}).accepted, 3);
}

TEST(MhIndependenceChain, RestartsFromTheFirstProposalWhenNothingWasAccepted) {
  // A confident real start (odds 99): α to 0.1, 0.5, 0.2 is about 0.0011, 0.0101, 0.0025; u = 0.5 rejects all.
  const Scores proposals{0.1, 0.5, 0.2};
  const Scores u{0.5, 0.5, 0.5};
  // Second run from 0.1 (odds 1/9) with u_2, u_3 reused: 0.5 accepted (α = 1), then 0.2 from 0.5: α = 1/4 < 0.5.
  const MhChain reused = mh_independence_chain(0.99, proposals, u);
  EXPECT_TRUE(reused.restarted);
  EXPECT_EQ(reused.index, 1);
  EXPECT_EQ(reused.accepted, 1);
  // With fresh uniforms (0.9, 0.1): 0.5 accepted, then 0.2 accepted as 0.1 <= 1/4.
  const MhChain fresh = mh_independence_chain(0.99, proposals, u, Scores{0.9, 0.1});
  EXPECT_TRUE(fresh.restarted);
  EXPECT_EQ(fresh.index, 2);
  EXPECT_EQ(fresh.accepted, 2);
  // A second run that accepts nothing ends on the first proposal.
  const MhChain stuck = mh_independence_chain(0.99, Scores{0.5, 0.1}, Scores{0.5, 0.5});
  EXPECT_TRUE(stuck.restarted);
  EXPECT_EQ(stuck.index, 0);
  EXPECT_EQ(stuck.accepted, 0);
}

TEST(MhIndependenceChain, RejectsBadInput) {
  expect_invalid([] { mh_independence_chain(0.5, Scores{}, Scores{}); }, "no proposals");
  expect_invalid([] { mh_independence_chain(0.5, Scores{0.5, 0.5}, Scores{0.5}); }, "2 proposals but 1 uniforms");
  expect_invalid([] { mh_independence_chain(0.5, Scores{0.5, 0.5}, Scores{0.5, 0.5}, Scores{0.1, 0.2}); },
                 "need 1 restart uniforms, not 2");
  expect_invalid([] { mh_independence_chain(0.5, Scores{0.5}, Scores{1.5}); }, "uniforms[0] is 1.5");
  expect_invalid([] { mh_independence_chain(1.2, Scores{0.5}, Scores{0.5}); }, "start probability 1.2");
  expect_invalid([] { mh_independence_chain(0.5, Scores{0.5, NAN}, Scores{0.5, 0.5}); },
                 "proposal probability 1 is nan");
}

// Five values; generated samples follow q, the real data p; the "perfect" discriminator D = p / (p + q) has
// odds p/q.
struct Discrete {
  std::array<double, 5> p;
  std::array<double, 5> q;
  double d(std::size_t x) const { return p[x] / (p[x] + q[x]); }
  double odds(std::size_t x) const { return p[x] / q[x]; }
  double alpha(std::size_t from, std::size_t to) const { return std::min(1.0, odds(to) / odds(from)); }
};

enum class Restart { kFreshUniforms, kReusedUniforms };

// The exact distribution of mh_independence_chain's output over the five values, the real start drawn from p.
// From a real start r: a Markov chain on {r, 0..4} for K steps; its mass left on r restarts. Given that every
// proposal was rejected from r, the proposals are iid from q~(x) ∝ q(x)(1 - α(r, x)); the second run starts at
// x_1 ~ q~ and moves to x with probability q~(x) α(c, x) per step (fresh uniforms), or, when the first run's
// uniforms are reused (conditioned on u > α(r, x)), q(x) max(0, α(c, x) - α(r, x)) / Z.
std::array<double, 5> exact_mh_output(const Discrete& m, int k, Restart restart, double* restart_probability) {
  std::array<double, 5> out{};
  *restart_probability = 0.0;
  for (std::size_t r = 0; r < 5; ++r) {
    // First run. State 5 is the real start.
    std::array<double, 6> state{0, 0, 0, 0, 0, 1};
    auto move = [&](std::size_t from, std::size_t to) {
      return from == 5 ? std::min(1.0, m.odds(to) / m.odds(r)) : m.alpha(from, to);
    };
    for (int step = 0; step < k; ++step) {
      std::array<double, 6> next{};
      for (std::size_t c = 0; c < 6; ++c) {
        double stay = 1.0;
        for (std::size_t x = 0; x < 5; ++x) {
          const double t = m.q[x] * move(c, x);
          next[x] += state[c] * t;
          stay -= t;
        }
        next[c] += state[c] * stay;
      }
      state = next;
    }
    for (std::size_t x = 0; x < 5; ++x) out[x] += m.p[r] * state[x];
    const double stuck = state[5];
    *restart_probability += m.p[r] * stuck;

    // Second run, given that the first rejected everything.
    std::array<double, 5> q_tilde{};
    for (std::size_t x = 0; x < 5; ++x) q_tilde[x] = m.q[x] * (1.0 - move(5, x));
    const double z = std::accumulate(q_tilde.begin(), q_tilde.end(), 0.0);
    if (z == 0.0) continue;  // every proposal is accepted from r: no restart
    for (double& v : q_tilde) v /= z;
    std::array<double, 5> second = q_tilde;
    for (int step = 1; step < k; ++step) {
      std::array<double, 5> next{};
      for (std::size_t c = 0; c < 5; ++c) {
        double stay = 1.0;
        for (std::size_t x = 0; x < 5; ++x) {
          const double t = restart == Restart::kFreshUniforms
                               ? q_tilde[x] * m.alpha(c, x)
                               : m.q[x] * std::max(0.0, m.alpha(c, x) - move(5, x)) / z;
          next[x] += second[c] * t;
          stay -= t;
        }
        next[c] += second[c] * stay;
      }
      second = next;
    }
    for (std::size_t x = 0; x < 5; ++x) out[x] += m.p[r] * stuck * second[x];
  }
  return out;
}

struct MhSimulation {
  std::array<double, 5> counts{};
  double restarted = 0.0;
};

MhSimulation simulate_mh(const Discrete& m, int chains, int k, Restart restart, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  MhSimulation sim;
  std::vector<std::size_t> values(k);
  Scores d(k), u(k), u_restart(k - 1);
  for (int chain = 0; chain < chains; ++chain) {
    const double start = m.d(draw(m.p, rng));
    for (int i = 0; i < k; ++i) {
      values[i] = draw(m.q, rng);
      d[i] = m.d(values[i]);
      u[i] = uniform01(rng);
    }
    for (double& v : u_restart) v = uniform01(rng);
    const MhChain result = restart == Restart::kFreshUniforms ? mh_independence_chain(start, d, u, u_restart)
                                                               : mh_independence_chain(start, d, u);
    sim.counts[values[result.index]] += 1.0;
    sim.restarted += result.restarted;
  }
  return sim;
}

TEST(MhIndependenceChain, OutputFollowsTheTargetWithAPerfectDiscriminator) {
  const Discrete m{.p = {0.1, 0.2, 0.3, 0.15, 0.25}, .q = {0.3, 0.25, 0.2, 0.15, 0.1}};
  constexpr int kChains = 20000, kProposals = 50;
  const MhSimulation sim = simulate_mh(m, kChains, kProposals, Restart::kFreshUniforms, 2024);
  // Started at a real sample (a draw from p, the stationary distribution) the chain stays in p; restarts are
  // rare (at most (1 - 1/2.5)^50 per chain).
  double restart_probability = 0.0;
  const auto exact = exact_mh_output(m, kProposals, Restart::kFreshUniforms, &restart_probability);
  for (std::size_t x = 0; x < 5; ++x) EXPECT_NEAR(exact[x], m.p[x], 1e-9);
  EXPECT_LT(restart_probability, 1e-10);
  EXPECT_EQ(sim.restarted, 0.0);
  for (std::size_t x = 0; x < 5; ++x) {
    const double frequency = sim.counts[x] / kChains;
    EXPECT_NEAR(frequency, m.p[x], 4.0 * std::sqrt(m.p[x] * (1 - m.p[x]) / kChains)) << "value " << x;
  }
  EXPECT_LT(chi_square(sim.counts, m.p), kChiSquare4);
  EXPECT_GT(chi_square(sim.counts, m.q), 1000.0);  // far from the generator's distribution
}

TEST(MhIndependenceChain, RestartsFollowTheExactDistributionOfEitherRestartRule) {
  // Short chains from a confident discriminator: about 23 % of the chains restart. The two restart rules
  // differ there by a few percent (TV 0.006 overall); a million chains tell them apart.
  const Discrete m{.p = {0.176, 0.174, 0.081, 0.007, 0.562}, .q = {0.61, 0.109, 0.111, 0.043, 0.127}};
  constexpr int kChains = 1000000, kProposals = 4;
  for (Restart rule : {Restart::kFreshUniforms, Restart::kReusedUniforms}) {
    SCOPED_TRACE(rule == Restart::kFreshUniforms ? "fresh restart uniforms" : "reused uniforms");
    double restart_probability = 0.0;
    const auto exact = exact_mh_output(m, kProposals, rule, &restart_probability);
    EXPECT_NEAR(std::accumulate(exact.begin(), exact.end(), 0.0), 1.0, 1e-12);
    EXPECT_NEAR(restart_probability, 0.2262, 1e-4);
    const MhSimulation sim = simulate_mh(m, kChains, kProposals, rule, 99);
    EXPECT_NEAR(sim.restarted / kChains, restart_probability, 4.0 * std::sqrt(0.25 / kChains));
    EXPECT_LT(chi_square(sim.counts, exact), kChiSquare4);
    double unused = 0.0;
    const auto other = exact_mh_output(
        m, kProposals, rule == Restart::kFreshUniforms ? Restart::kReusedUniforms : Restart::kFreshUniforms, &unused);
    EXPECT_GT(total_variation(exact, other), 0.005);
    EXPECT_GT(chi_square(sim.counts, other), 100.0);  // expected about 250
  }
}

// ----- DRS -------------------------------------------------------------------------------------------------

TEST(Drs, AcceptanceProbabilityHandValues) {
  // At the maximum: F = -log(1 - e^-ε).
  EXPECT_NEAR(drs_f(2.0, 2.0, 1e-6), 13.815511057964233, 1e-9);
  // One below the maximum, ε -> 0: F = -1 - log(1 - e^-1).
  EXPECT_NEAR(drs_f(-1.0, 0.0, 1e-12), -0.5413248546129181, 1e-10);
  EXPECT_NEAR(drs_f(3.0, 5.0, 0.1), -2.0 - std::log(1.0 - std::exp(-2.1)), 1e-14);
  // Far below the maximum F ≈ D̃ - D̃*_max, the log1mexp term vanishing.
  EXPECT_NEAR(drs_f(-50.0, 0.0, 1e-6), -50.0, 1e-20 + 1e-12);
  EXPECT_NEAR(drs_acceptance_probability(-1.0, 0.0, -0.5413248546129181, 1e-12), 0.5, 1e-10);
  // γ = 0 and ε -> 0: σ(F) = e^(D̃ - D̃*_max) exactly (Azadi et al.'s ideal rejection sampler).
  for (double d : {-7.0, -2.0, -0.5, -1e-3}) {
    EXPECT_NEAR(drs_acceptance_probability(d, 0.0, 0.0, 1e-14), std::exp(d), 1e-12);
  }
  expect_invalid([] { drs_f(1.0, 0.5, 1e-6); }, "must be finite and <= the finite max logit");
  expect_invalid([] { drs_f(0.0, 0.5, 0.0); }, "epsilon 0 is not > 0");
}

TEST(Drs, GammaIsTheQuantileOfFOverTheBurnIn) {
  const Scores burn_in{4, 0, 3, 1, 2};
  const double eps = 1e-6;
  auto f = [&](double d) { return drs_f(d, 4.0, eps); };
  const Scores none;
  EXPECT_DOUBLE_EQ(discriminator_rejection_sampling(burn_in, none, none, 0.5).gamma, f(2));
  EXPECT_DOUBLE_EQ(discriminator_rejection_sampling(burn_in, none, none, 0.0).gamma, f(0));
  EXPECT_DOUBLE_EQ(discriminator_rejection_sampling(burn_in, none, none, 1.0).gamma, f(4));
  // numpy.percentile's linear interpolation: position 0.95 · 4 = 3.8.
  const DrsResult r = discriminator_rejection_sampling(burn_in, none, none);
  EXPECT_DOUBLE_EQ(r.gamma, f(3) + 0.8 * (f(4) - f(3)));
  EXPECT_EQ(r.max_logit, 4.0);
  // So 95 % of a large burn-in falls below acceptance probability 1/2.
  std::mt19937_64 rng(5);
  Scores large(10001);
  for (double& v : large) v = normal(rng);
  const DrsResult q = discriminator_rejection_sampling(large, large, Scores(large.size(), 0.5));
  EXPECT_NEAR(static_cast<double>(q.accepted.size()) / large.size(), 0.05, 1e-3);
}

TEST(Drs, RaisesTheMaximumAndAcceptsWhenTheUniformIsAtMostP) {
  const Scores burn_in{0, 1};
  const Scores logits{0.5, 3, 2};
  const DrsResult probe = discriminator_rejection_sampling(burn_in, logits, Scores{1, 1, 1}, 0.5);
  const double gamma = probe.gamma;
  EXPECT_DOUBLE_EQ(gamma, (drs_f(0, 1, 1e-6) + drs_f(1, 1, 1e-6)) / 2);
  EXPECT_EQ(probe.max_logit, 3.0);
  ASSERT_EQ(probe.acceptance_probability.size(), 3u);
  EXPECT_DOUBLE_EQ(probe.acceptance_probability[0], drs_acceptance_probability(0.5, 1, gamma, 1e-6));
  EXPECT_DOUBLE_EQ(probe.acceptance_probability[1], drs_acceptance_probability(3, 3, gamma, 1e-6));  // new maximum
  EXPECT_DOUBLE_EQ(probe.acceptance_probability[2], drs_acceptance_probability(2, 3, gamma, 1e-6));
  EXPECT_TRUE(probe.accepted.empty());  // u = 1 > every p < 1
  const auto& p = probe.acceptance_probability;
  const DrsResult at = discriminator_rejection_sampling(burn_in, logits, p, 0.5);
  EXPECT_EQ(at.accepted, (std::vector<std::int64_t>{0, 1, 2}));
  const DrsResult above = discriminator_rejection_sampling(
      burn_in, logits, Scores{std::nextafter(p[0], 1.0), p[1] / 2, std::nextafter(p[2], 1.0)}, 0.5);
  EXPECT_EQ(above.accepted, (std::vector<std::int64_t>{1}));
}

TEST(Drs, MovesTheGeneratedDistributionTowardsTheTarget) {
  const Discrete m{.p = {0.1, 0.2, 0.3, 0.15, 0.25}, .q = {0.3, 0.25, 0.2, 0.15, 0.1}};
  std::mt19937_64 rng(17);
  auto perfect_logit = [&](std::size_t x) { return std::log(m.odds(x)); };  // logit of p/(p+q)
  Scores burn_in;
  for (int i = 0; i < 10000; ++i) burn_in.push_back(perfect_logit(draw(m.q, rng)));
  constexpr int kSamples = 200000;
  std::vector<std::size_t> values;
  Scores logits, u;
  for (int i = 0; i < kSamples; ++i) {
    values.push_back(draw(m.q, rng));
    logits.push_back(perfect_logit(values.back()));
    u.push_back(uniform01(rng));
  }
  const double max_logit = std::log(2.5);

  // γ = 0, ε -> 0 and the true maximum: exact rejection sampling, the kept samples follow p.
  std::array<double, 5> ideal{};
  for (int i = 0; i < kSamples; ++i) {
    if (u[i] <= drs_acceptance_probability(logits[i], max_logit, 0.0, 1e-14)) ideal[values[i]] += 1.0;
  }
  EXPECT_LT(chi_square(ideal, m.p), kChiSquare4);
  EXPECT_GT(chi_square(ideal, m.q), 1000.0);

  // With γ at the median of F on the burn-in, DRS keeps q(x) σ(F(x) - γ), which lies between q and p.
  const DrsResult r = discriminator_rejection_sampling(burn_in, logits, u, 0.5);
  EXPECT_EQ(r.max_logit, max_logit);
  std::array<double, 5> kept{}, expected{};
  for (std::int64_t i : r.accepted) kept[values[i]] += 1.0;
  for (std::size_t x = 0; x < 5; ++x) {
    expected[x] = m.q[x] * drs_acceptance_probability(perfect_logit(x), max_logit, r.gamma, 1e-6);
  }
  expected = normalised(expected);
  EXPECT_LT(chi_square(kept, expected), kChiSquare4);
  const double tv_before = total_variation(m.q, m.p);
  const double tv_after = total_variation(normalised(kept), m.p);
  EXPECT_LT(tv_after, 0.5 * tv_before) << "TV(q, p) = " << tv_before << ", TV(kept, p) = " << tv_after;

  // The paper's 95th percentile: here the top value (odds 2.5) is 10 % of q, so γ = F(D̃*_max) = -log(1 - e^-ε),
  // it is kept with probability 1/2 and everything else with about e^-13.8: DRS then keeps the mode only.
  const DrsResult sharp = discriminator_rejection_sampling(burn_in, logits, u);
  EXPECT_DOUBLE_EQ(sharp.gamma, drs_f(max_logit, max_logit, 1e-6));
  std::array<double, 5> sharp_kept{};
  for (std::int64_t i : sharp.accepted) sharp_kept[values[i]] += 1.0;
  EXPECT_NEAR(sharp_kept[4] / (kSamples * m.q[4]), 0.5, 0.01);
  EXPECT_GT(sharp_kept[4] / static_cast<double>(sharp.accepted.size()), 0.999);
}

TEST(Drs, RejectsBadInput) {
  const Scores one{0.0};
  expect_invalid([&] { discriminator_rejection_sampling(Scores{}, one, one); }, "no burn-in logits");
  expect_invalid([&] { discriminator_rejection_sampling(one, Scores{1, 2}, one); }, "2 logits but 1 uniforms");
  expect_invalid([&] { discriminator_rejection_sampling(one, one, one, 1.5); }, "gamma_quantile 1.5");
  expect_invalid([&] { discriminator_rejection_sampling(one, one, one, 0.95, -1); }, "epsilon -1 is not > 0");
  expect_invalid([&] { discriminator_rejection_sampling(Scores{NAN}, one, one); }, "burn_in_logits[0] is nan");
  expect_invalid([&] { discriminator_rejection_sampling(one, Scores{INFINITY}, one); }, "logits[0] is inf");
  expect_invalid([&] { discriminator_rejection_sampling(one, one, Scores{-0.1}); }, "uniforms[0] is -0.1");
}


}  // namespace
}  // namespace ganleaks::extraction
