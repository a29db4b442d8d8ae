#pragma once
// One membership-inference attack job, run collectively by every rank (docs/architecture.md, "A run"): generated
// samples are sharded by chunk and queries by block; every partial result is gathered and combined in a fixed
// order, so scores do not depend on the number of ranks. Rank 0 computes the metrics and commits attacks/<id>.h5.
// LibTorch's models and attacks stay behind this header.
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/pool.h"
#include "data/splits.h"
#include "dist/comm.h"
#include "membership/config.h"
#include "membership/plan.h"
#include "runner/layout.h"

namespace ganleaks::membership {

struct AttackInputs {
  const Config& config;
  const runner::Layout& layout;
  const dist::Comm& world;
  at::Device device;  // this rank's (dist/device.h)
  const data::Pool& pool;
  const data::SeedSplits& splits;  // of the job's seed
  std::string victim_run, reference_run;  // the runs attacked (reference_run: "" without calibration)
};

// Every rank of `world` must call these for the same job; a failure on one rank aborts the run.
void run_attack_job(const Job& job, const AttackInputs& inputs);
// A kSignals job (membership/shadow.h): the setting's loss of the model inputs.victim_run (the victim, or a shadow)
// on the query set and RMIA's population records, written to signals/<job>.h5.
void run_signal_job(const Job& job, const AttackInputs& inputs, bool victim);
// A signal job on rows of the caller's choice (`queries` of them counted as queries in the record), the model's
// generated samples drawn from the stream of `stream_tag` (derived from job.seed).
void run_signal_job(const Job& job, const AttackInputs& inputs, std::vector<std::int64_t> rows, std::int64_t queries,
                    const std::string& stream_tag);

}  // namespace ganleaks::membership
