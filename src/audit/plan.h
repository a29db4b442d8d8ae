#pragma once
// The audit as a job graph (docs/privacy.md, "Auditing"). Per (privacy level, seed): the multi-run audit trains
// T models with the canary and T without (audit.runs), the one-run audit one model with each of m canaries
// included by a coin flip (audit.canaries); per attack setting, a kSignals job scores every trained model on its
// canaries (sharded over every rank, membership's attack code), and one kAudit job (one rank) turns those losses
// into bounds. Raising T keeps the trainings already done. No LibTorch.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/config.h"
#include "privacy/levels.h"
#include "runner/job.h"

namespace ganleaks::audit {

enum class JobKind { kTrain, kSignals, kAudit };
enum class Mode { kMultiRun, kOneRun };

struct JobSpec {
  JobKind kind = JobKind::kTrain;
  Mode mode = Mode::kMultiRun;
  std::uint64_t seed = 0;
  privacy::PrivacyLevel level;
  std::optional<privacy::DpSettings> dp;  // DP levels, resolved once at plan time for the records trained on
  std::int64_t trained_records = 0;       // training jobs: n plus the canaries trained on
  bool with_canary = false;               // multi-run training jobs: the side that trains on the canary
  int run = -1;                           // multi-run training jobs: t of 0 .. T − 1
  std::uint64_t training_seed = 0;        // training jobs
  std::string setting;                    // signal and audit jobs
  int model = -1;                         // signal jobs: the training job they score
  std::vector<int> signals;               // audit jobs: multi-run, the IN runs' signal jobs then the OUT runs'
};

using Job = runner::Described<JobSpec>;
using Plan = runner::TaskPlan<JobSpec>;
Plan make_plan(const Config& config);

// The records of one seed: `train`, the n records every audited model trains on, and `sources`, the records the
// canaries are made from (the canaries themselves for audit.canary = "pool"), from one seeded permutation of the
// pool, so that n and the seed fix the training set whatever the number of canaries.
struct AuditRows {
  std::vector<std::int64_t> train, sources;
};
AuditRows audit_rows(std::int64_t pool_size, std::int64_t train_size, std::int64_t sources, std::uint64_t seed);
// Canaries a seed needs: the multi-run audit's one (canary 0) and the one-run audit's m (canaries 0 .. m − 1).
std::int64_t canary_count(const AuditConfig& audit);
// The one-run audit's coin flips: whether canary i is included in the training run (1) or not (0).
std::vector<std::uint8_t> one_run_inclusion(std::int64_t canaries, std::uint64_t seed);

// The audit records' folder: audits/<job>.h5.
inline constexpr std::string_view kAuditsFolder = "audits";
std::string_view mode_name(Mode mode);  // "multi-run", "one-run"

}  // namespace ganleaks::audit
