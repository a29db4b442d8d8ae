#pragma once
// What a plan will cost before it runs (`ganleaks plan`): every job's work counted in units whose time is
// measured here, on this process's device, for the config's own models and sizes — a training iteration of
// each model at train.batch_size, a generator and a discriminator pass per sample, a classifier iteration — and
// added up to rank-hours (one rank = one GPU on a cluster). LibTorch stays behind this header.
#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "runner/plan.h"

namespace ganleaks::runner {

// A GPU rank runs these small convolutional networks this many times faster than one CPU core. An assumption,
// not a measurement (no GPU was available to measure it); `ganleaks plan --gpu-speedup X` replaces it.
inline constexpr double kAssumedGpuSpeedup = 30.0;

struct CostEstimate {
  double rank_seconds = 0;                      // on the device measured here
  std::map<std::string, double> by_kind;        // rank-seconds per job kind
  std::map<std::string, double> unit_seconds;   // the measured units, for the printout
};

// `jobs`: the jobs still to run. Measures on the CPU with one thread per rank (experiment.threads_per_rank).
CostEstimate estimate_cost(const Config& config, const std::vector<Job>& jobs);

// The plan's cost as lines for `ganleaks plan`: rank-hours here, the wall time on `ranks` ranks if the jobs
// spread perfectly, and GPU-hours at `gpu_speedup`.
std::string describe_cost(const CostEstimate& cost, int ranks, double gpu_speedup);

}  // namespace ganleaks::runner
