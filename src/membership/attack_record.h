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
#include "io/h5.h"
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

// One scored variant of an attack: its group name, setting ("fbb", or "fbb-squared"), calibration ("none",
// "reference" for GAN-Leaks' reference model, "lira-online", "lira-offline", "rmia-online", "rmia-offline") and
// per-query scores (higher = member).
struct ScoredGroup {
  std::string name, setting, calibration;
  std::vector<double> scores;
};
// The attributes and datasets every attack group has (SPEC §5): the job's model, size, seed, privacy level, the
// variant's AUC and TPR at the reported FPRs with bootstrap intervals, scores, labels and ROC.
void write_scored_group(const io::H5Group& group, const ScoredGroup& what, const Job& job, const Config& config,
                        const data::QuerySet& queries, const dist::Placement& where, double seconds);

// `reference` is used by the calibrated variant only (config.attack.calibrated).
// `where`: the job's ranks; `seconds` its wall time.
void write_attack_record(const std::filesystem::path& file, const Job& job, const Config& config,
                         const data::QuerySet& queries, const Losses& victim, const Losses& reference,
                         const dist::Placement& where, double seconds);

// A signal job's record, signals/<id>.h5: one model's losses on `rows` (the query set's `queries` rows, then RMIA's
// population records z) for the job's setting, `run` naming the model.
void write_signal_record(const std::filesystem::path& file, const Job& job, const std::string& run,
                         const std::vector<std::int64_t>& rows, std::int64_t queries, const Losses& losses,
                         const dist::Placement& where, double seconds);

// A signal record as written above; std::runtime_error naming the file when its datasets disagree in length.
struct SignalRecord {
  std::vector<double> loss;
  std::vector<std::int64_t> rows;
  std::int64_t queries = 0;
};
SignalRecord read_signal_record(const std::filesystem::path& file);

}  // namespace ganleaks::membership
