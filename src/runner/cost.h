#pragma once
// What a plan will cost before it runs (`ganleaks plan`): each task counts its jobs' work in units it measures
// on this process (a training iteration, a generated sample, ...) and adds them up to rank-seconds here.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace ganleaks::runner {

// How many times faster a GPU rank runs a job than one CPU core here, and where the number comes from.
struct GpuSpeedup {
  double value = 30.0;
  std::string source = "assumed, not measured (bench/device-check measures it on a GPU machine)";
};
// The speed-up bench/device-check measured and wrote to `file` (TOML: speedup, device, measured, how); nullopt
// when the file does not exist; UserError naming the file when it is not such a file.
std::optional<GpuSpeedup> read_gpu_speedup(const std::filesystem::path& file);
// Where `ganleaks plan` looks for it: $GANLEAKS_GPU_SPEEDUP_FILE, else bench/measured/gpu_speedup.toml of the
// source tree this binary was built from.
std::filesystem::path gpu_speedup_file();

struct CostEstimate {
  double rank_seconds = 0;                     // on the device measured here
  std::map<std::string, double> by_kind;       // rank-seconds per job kind
  std::map<std::string, double> unit_seconds;  // the measured units, for the printout
};

// The cost as lines for `ganleaks plan`: rank-hours here, the wall time on `ranks` ranks if the jobs spread
// perfectly, and GPU-hours at `gpu`.
std::string describe_cost(const CostEstimate& cost, int ranks, const GpuSpeedup& gpu);

}  // namespace ganleaks::runner
