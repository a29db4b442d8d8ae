#include "membership/shadow_attack.h"

#include <fmt/format.h>

#include <chrono>
#include <set>
#include <span>
#include <stdexcept>

#include "attacks/shadow_scores.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "io/record.h"
#include "membership/attack_record.h"
#include "membership/calibration.h"
#include "membership/shadow.h"

namespace ganleaks::membership {

void run_shadow_attack_job(const Job& job, const ShadowAttackInputs& in) {
  const auto start = std::chrono::steady_clock::now();
  const auto& cfg = in.config.attack;
  const auto queries = data::make_query_set(in.splits, job.train_size, query_count(in.config, job.train_size), job.seed);
  const auto q = static_cast<std::int64_t>(queries.sample_index.size());
  const auto victim = read_signal_record(in.layout.record(std::string(kSignalsFolder), in.signal_jobs.at(0)));
  const auto z = static_cast<std::int64_t>(victim.rows.size()) - q;
  const auto k_count = static_cast<std::int64_t>(in.signal_jobs.size()) - 1;
  // Every shadow's losses as (row, shadow) matrices: on the queries, with whether the shadow trained on each, and
  // on the population records z.
  std::vector<double> shadow_loss(static_cast<std::size_t>(q * k_count)), population_loss(static_cast<std::size_t>(z * k_count));
  std::vector<std::uint8_t> shadow_in(shadow_loss.size());
  for (std::int64_t k = 0; k < k_count; ++k) {
    const auto path = in.layout.record(std::string(kSignalsFolder), in.signal_jobs[static_cast<std::size_t>(k + 1)]);
    const auto shadow = read_signal_record(path);
    if (shadow.rows != victim.rows || shadow.queries != q) {
      throw std::runtime_error(fmt::format("{}: other rows than the victim's signals", path.string()));
    }
    const auto rows = shadow_training_rows(in.config, in.splits, job.train_size, job.seed, static_cast<int>(k));
    const std::set<std::int64_t> trained(rows.begin(), rows.end());
    for (std::int64_t i = 0; i < q; ++i) {
      const auto at = static_cast<std::size_t>(i * k_count + k);
      shadow_loss[at] = shadow.loss[static_cast<std::size_t>(i)];
      shadow_in[at] = trained.contains(queries.sample_index[static_cast<std::size_t>(i)]);
    }
    for (std::int64_t i = 0; i < z; ++i) {
      population_loss[static_cast<std::size_t>(i * k_count + k)] = shadow.loss[static_cast<std::size_t>(q + i)];
    }
  }
  // The losses as LiRA's signals and RMIA's likelihoods (membership/shadow.h).
  const auto as = [&](std::span<const double> losses, auto transform) {
    std::vector<double> out;
    for (const double loss : losses) out.push_back(transform(job.setting, loss, cfg.fbb_samples));
    return out;
  };
  const std::span<const double> victim_queries(victim.loss.data(), static_cast<std::size_t>(q)),
      victim_population(victim.loss.data() + q, static_cast<std::size_t>(z));
  const attacks::ShadowSignals lira{q, k_count, as(shadow_loss, lira_signal), shadow_in},
      rmia_x{q, k_count, as(shadow_loss, rmia_likelihood), shadow_in},
      rmia_z{z, k_count, as(population_loss, rmia_likelihood), std::vector<std::uint8_t>(population_loss.size(), 0)};
  const auto target_signal = as(victim_queries, lira_signal), target_x = as(victim_queries, rmia_likelihood),
             target_z = as(victim_population, rmia_likelihood);
  const bool online = cfg.shadow_mode == "online";
  const auto spread = cfg.shadow_spread == "auto" ? attacks::default_spread(k_count)
                      : cfg.shadow_spread == "global" ? attacks::Spread::kGlobal
                                                      : attacks::Spread::kPerQuery;
  std::vector<ScoredGroup> groups;
  // Each group is named after its calibration: "<job>-lira-online", ...
  const auto group = [&](std::string_view how, std::vector<double> scores) {
    groups.push_back({fmt::format("{}-{}", job.name, how), job.setting, std::string(how), std::move(scores)});
  };
  if (online) group(calibration::kLiraOnline, attacks::lira_online(target_signal, lira, spread));
  group(calibration::kLiraOffline, attacks::lira_offline(target_signal, lira, spread));
  group(online ? calibration::kRmiaOnline : calibration::kRmiaOffline,
        attacks::rmia(target_x, rmia_x, target_z, rmia_z, {.online = online, .a = cfg.rmia_a, .gamma = cfg.rmia_gamma}));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  io::commit_record(in.layout.record(std::string(kAttacksFolder), job.name), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    file.root().set_attr("job_hash", job.hash);
    for (const auto& scored : groups) {
      const auto group = file.root().create_group(scored.name);
      write_scored_group(group, scored, job, in.config, queries, in.where, seconds);
      group.set_attr("shadow_models", k_count);
      group.set_attr("fbb_samples", cfg.fbb_samples);  // mc's signal adds 1 / fbb_samples
      group.set_attr("shadow_mode", cfg.shadow_mode);
      group.set_attr("shadow_spread", spread == attacks::Spread::kGlobal ? "global" : "per-query");
      group.set_attr("rmia_a", cfg.rmia_a);
      group.set_attr("rmia_gamma", cfg.rmia_gamma);
      // Everything the scores came from, so that they can be recomputed (tests/e2e/check_results.py does).
      group.write("distance", victim_queries);
      group.write_matrix("shadow_distance", shadow_loss, q, k_count);
      const std::vector<double> in_flags(shadow_in.begin(), shadow_in.end());
      group.write_matrix("shadow_in", in_flags, q, k_count);
      group.write("population_distance", victim_population);
      group.write_matrix("population_shadow_distance", population_loss, z, k_count);
      group.write("population_index", std::span<const std::int64_t>(victim.rows.data() + q, static_cast<std::size_t>(z)));
    }
  });
}

}  // namespace ganleaks::membership
