#pragma once
// Shadow models for LiRA and RMIA (issue #19; docs/attacks.md, "Shadow models"): which records each shadow trains
// on, which records every model's signal is taken on, and how a setting's loss becomes LiRA's signal and RMIA's
// Pr(x | θ). No LibTorch; the scores themselves are attacks/shadow_scores.h's.
//
// Per (n, seed): the shadow population P holds 2n records: online, the query set (m members of the victim's
// training set, m hold-out records) and 2n − 2m records from the start of the reference split; offline, the
// first 2n records of the reference split. Shadows come in pairs: pair j draws a seeded permutation of P and
// shadow 2j trains on its first n records, shadow 2j + 1 on the other n. Every record of P is then IN for
// exactly half of any even number of shadows, and shadow k's records do not depend on K: raising K keeps the
// shadows already trained. RMIA's population records z are the last attack.rmia_population records of the
// reference split, in no model's training set.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/splits.h"
#include "membership/config.h"

namespace ganleaks::membership {

struct ShadowPopulation {
  std::vector<std::int64_t> records;  // P, 2n pool rows
  std::vector<std::int64_t> rmia;     // z
};
ShadowPopulation shadow_population(const Config& config, const data::SeedSplits& splits, std::int64_t train_size,
                                   std::uint64_t seed);

// Shadow k's training rows: its half of pair k / 2's permutation of P.
std::vector<std::int64_t> shadow_training_rows(const Config& config, const data::SeedSplits& splits,
                                               std::int64_t train_size, std::uint64_t seed, int shadow);

// The rows a signal job scores: the query set of (n, seed), then the population records z.
std::vector<std::int64_t> signal_rows(const Config& config, const data::SeedSplits& splits, std::int64_t train_size,
                                      std::uint64_t seed);

// A setting's per-query loss (lower = more member-like, membership/attack_record.h) as LiRA's signal, larger for
// members and roughly Gaussian over shadows: −log of a distance or reconstruction loss (fbb, pbb, wb), the logit
// itself (dis: loss = −logit), the log-fraction log(f + 1/k) of generated samples within the radius (mc: loss =
// −f, k = attack.fbb_samples), the log-density (domias: loss = −log p_G).
double lira_signal(std::string_view setting, double loss, std::int64_t fbb_samples);
// The same loss as RMIA's Pr(x | θ): exp(−loss) for distances and reconstruction losses (GAN-Leaks' own
// approximation P(x | θ) ∝ exp(−L), Sec. 5), the discriminator's probability of "real" σ(logit) (dis), the
// fraction f + 1/k (mc), the generated-data density p_G(x) (domias; not bounded by 1, so offline RMIA's
// 1 − a term is a constant of another scale there).
double rmia_likelihood(std::string_view setting, double loss, std::int64_t fbb_samples);

}  // namespace ganleaks::membership
