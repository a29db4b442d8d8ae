#include "membership/shadow.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>

#include "core/seeding.h"

namespace ganleaks::membership {

ShadowPopulation shadow_population(const Config& config, const data::SeedSplits& splits, std::int64_t train_size,
                                   std::uint64_t seed) {
  const auto m = query_count(config, train_size);
  const bool online = config.attack.shadow_mode == "online";
  ShadowPopulation out;
  if (online) out.records = data::make_query_set(splits, train_size, m, seed).sample_index;
  const auto beyond = 2 * train_size - static_cast<std::int64_t>(out.records.size());
  const auto z = config.attack.rmia_population;
  const auto reference = static_cast<std::int64_t>(splits.reference.size());
  if (beyond + z > reference) {  // parse_config refuses such configs; this guards other callers
    throw std::invalid_argument(fmt::format("shadow population: {} reference records needed, {} in the split",
                                            beyond + z, reference));
  }
  out.records.insert(out.records.end(), splits.reference.begin(), splits.reference.begin() + beyond);
  out.rmia.assign(splits.reference.end() - z, splits.reference.end());
  return out;
}

std::vector<std::int64_t> shadow_training_rows(const Config& config, const data::SeedSplits& splits,
                                               std::int64_t train_size, std::uint64_t seed, int shadow) {
  auto records = shadow_population(config, splits, train_size, seed).records;
  const auto pair = static_cast<std::uint64_t>(shadow / 2);
  Rng rng(derive_seed(seed, fmt::format("shadow-pair-{}-n{}", config.attack.shadow_mode, train_size), pair));
  rng.shuffle(std::span<std::int64_t>(records));
  const auto half = records.begin() + train_size;
  return shadow % 2 == 0 ? std::vector<std::int64_t>(records.begin(), half) : std::vector<std::int64_t>(half, records.end());
}

std::vector<std::int64_t> signal_rows(const Config& config, const data::SeedSplits& splits, std::int64_t train_size,
                                      std::uint64_t seed) {
  auto rows = data::make_query_set(splits, train_size, query_count(config, train_size), seed).sample_index;
  const auto z = shadow_population(config, splits, train_size, seed).rmia;
  rows.insert(rows.end(), z.begin(), z.end());
  return rows;
}

double lira_signal(std::string_view setting, double loss, std::int64_t fbb_samples) {
  if (setting == "dis" || setting == "domias") return -loss;
  if (setting == "mc") return std::log(-loss + 1.0 / static_cast<double>(fbb_samples));
  return -std::log(std::max(loss, std::numeric_limits<double>::min()));  // a loss of 0: the largest finite signal
}

double rmia_likelihood(std::string_view setting, double loss, std::int64_t fbb_samples) {
  if (setting == "dis") return 1 / (1 + std::exp(loss));  // σ(logit), logit = −loss
  if (setting == "mc") return -loss + 1.0 / static_cast<double>(fbb_samples);
  return std::exp(-loss);
}

}  // namespace ganleaks::membership
