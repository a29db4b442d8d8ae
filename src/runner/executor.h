#pragma once
// Runs one job of the plan on this rank: trains a victim or reference GAN, or takes part in a collective
// attack (queries sharded over ranks in fixed blocks, losses gathered on rank 0, which computes the
// metrics and commits the attack's record). LibTorch stays behind this header.
#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <memory>

#include "core/config.h"
#include "data/pool.h"
#include "data/splits.h"
#include "dist/comm.h"
#include "dist/tensor_comm.h"
#include "runner/layout.h"
#include "runner/messages.h"

namespace ganleaks::runner {

class Executor {
 public:
  // `group`: the ranks that train a model together (data parallel; one rank when ranks_per_run = 1).
  Executor(Config config, Layout layout, const dist::Comm& world, dist::TensorComm& group,
           std::shared_ptr<const data::Pool> pool);

  // Collective jobs must be entered by every rank of `world`, training jobs by every rank of the group.
  // between_steps runs between training steps. A failure in a training job of a one-rank group is
  // returned in the report; a failure inside a collective is thrown.
  JobReport run(const Job& job, const std::function<void()>& between_steps = {});

  // The split of one seed, identical on every rank: membership (victims, reference, hold-out) or extraction
  // (the target's training set, the transfer domain), as experiment.task has it.
  const data::SeedSplits& splits(std::uint64_t seed);
  const data::ExtractionSplits& extraction_splits(std::uint64_t seed);
  void check_splits(std::uint64_t seed);

 private:
  void train(const Job& job, const std::function<void()>& between_steps);
  // A training job's records and their pool indices (none for the thief's query answers).
  std::pair<at::Tensor, std::vector<std::int64_t>> training_records(const Job& job);

  Config config_;
  Layout layout_;
  const dist::Comm& world_;
  dist::TensorComm& group_;
  std::shared_ptr<const data::Pool> pool_;
  std::map<std::uint64_t, data::SeedSplits> splits_;
  std::map<std::uint64_t, data::ExtractionSplits> extraction_splits_;
};

// The split of one seed under data.member_selection (data/splits.h).
data::SeedSplits make_seed_splits(const Config& config, const data::Pool& pool, std::uint64_t seed);
data::ExtractionSplits make_extraction_splits(const Config& config, const data::Pool& pool, std::uint64_t seed);

// The file whose presence means a job is finished (written last, atomically); a rerun skips such jobs.
std::filesystem::path job_output(const Layout& layout, const Config& config, const Job& job);
// kDone: the output exists and was made with the job's current hash; kStale: it exists from other settings
// (a rerun never overwrites it: runner/experiment.cpp refuses); kMissing: still to do.
enum class JobState { kMissing, kDone, kStale };
JobState job_state(const Layout& layout, const Config& config, const Job& job);
bool job_done(const Layout& layout, const Config& config, const Job& job);

}  // namespace ganleaks::runner
