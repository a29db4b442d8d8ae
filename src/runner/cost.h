#pragma once
// What a plan will cost before it runs (`ganleaks plan`): each task counts its jobs' work in units it measures
// on this process (a training iteration, a generated sample, ...) and adds them up to rank-seconds here.
#include <map>
#include <string>

namespace ganleaks::runner {

// A GPU rank runs these small convolutional networks this many times faster than one CPU core. An assumption,
// not a measurement (no GPU was available to measure it); `ganleaks plan --gpu-speedup X` replaces it.
inline constexpr double kAssumedGpuSpeedup = 30.0;

struct CostEstimate {
  double rank_seconds = 0;                     // on the device measured here
  std::map<std::string, double> by_kind;       // rank-seconds per job kind
  std::map<std::string, double> unit_seconds;  // the measured units, for the printout
};

// The cost as lines for `ganleaks plan`: rank-hours here, the wall time on `ranks` ranks if the jobs spread
// perfectly, and GPU-hours at `gpu_speedup`.
std::string describe_cost(const CostEstimate& cost, int ranks, double gpu_speedup);

}  // namespace ganleaks::runner
