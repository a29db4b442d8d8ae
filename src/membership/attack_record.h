#pragma once
// An attack job's record, attacks/<id>.h5: per calibration variant the scores, metrics with bootstrap
// intervals, ROC and the attributes of SPEC §5. Written by rank 0, atomically.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "data/splits.h"
#include "dist/placement.h"
#include "membership/config.h"
#include "membership/plan.h"

namespace ganleaks::membership {

// The attack records' folder: attacks/<job>.h5.
inline constexpr std::string_view kAttacksFolder = "attacks";

// Per-query losses of one model (higher = less likely a member) and how they were obtained.
struct Losses {
  std::vector<double> loss;
  std::vector<std::int64_t> evaluations;  // generator evaluations per query (pbb, wb)
  std::map<std::string, double> attrs;    // e.g. mc_radius_mse
};

// `reference` is used by the calibrated variant only (config.attack.calibrated).
// `where`: the job's ranks; `seconds` its wall time.
void write_attack_record(const std::filesystem::path& file, const Job& job, const Config& config,
                         const data::QuerySet& queries, const Losses& victim, const Losses& reference,
                         const dist::Placement& where, double seconds);

}  // namespace ganleaks::membership
