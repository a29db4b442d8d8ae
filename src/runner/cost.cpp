#include "runner/cost.h"

#include <fmt/format.h>

#include <algorithm>

namespace ganleaks::runner {

std::string describe_cost(const CostEstimate& cost, int ranks, double gpu_speedup) {
  const double hours = cost.rank_seconds / 3600;
  std::string out = fmt::format(
      "Estimated cost of the jobs left: {:.3g} rank-hours on this machine's CPU ranks (units measured now), i.e. "
      "{:.3g} h of wall time on {} ranks if the jobs spread evenly; about {:.3g} GPU-hours at an assumed {:g}x "
      "GPU/CPU-core speed-up (--gpu-speedup).\n",
      hours, hours / std::max(1, ranks), ranks, hours / gpu_speedup, gpu_speedup);
  for (const auto& [kind, seconds] : cost.by_kind) {
    out += fmt::format("  {:<10} {:>10.3g} rank-hours\n", kind, seconds / 3600);
  }
  out += "  measured units:";
  for (const auto& [unit, seconds] : cost.unit_seconds) out += fmt::format(" {} {:.3g} s;", unit, seconds);
  out += "\n";
  return out;
}

}  // namespace ganleaks::runner
