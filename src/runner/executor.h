#pragma once
// Runs one job of the plan on this rank: trains a victim or reference GAN, or takes part in a collective
// attack (queries sharded over ranks in fixed blocks, losses gathered on rank 0, which computes the
// metrics and commits the attack's record). LibTorch stays behind this header.
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

  // The split of one seed, identical on every rank.
  const data::SeedSplits& splits(std::uint64_t seed);

 private:
  void train(const Job& job, const std::function<void()>& between_steps);
  void attack(const Job& job);

  Config config_;
  Layout layout_;
  const dist::Comm& world_;
  dist::TensorComm& group_;
  std::shared_ptr<const data::Pool> pool_;
  std::map<std::uint64_t, data::SeedSplits> splits_;
};

// The split of one seed under data.member_selection (data/splits.h).
data::SeedSplits make_seed_splits(const Config& config, const data::Pool& pool, std::uint64_t seed);

// Whether a job's output is already committed (a rerun skips it).
bool job_done(const Layout& layout, const Job& job);

}  // namespace ganleaks::runner
