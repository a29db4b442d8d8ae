#include "runner/cost.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/errors.h"

namespace ganleaks::runner {

std::optional<GpuSpeedup> read_gpu_speedup(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return std::nullopt;
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw UserError(fmt::format("{}: not TOML ({}); bench/device-check writes this file", file.string(), e.description()));
  }
  const auto speedup = table["speedup"].value<double>();
  if (!speedup || !std::isfinite(*speedup) || *speedup <= 0) {
    throw UserError(fmt::format("{}: expected a key `speedup` holding a positive number (bench/device-check writes "
                                "this file)", file.string()));
  }
  return GpuSpeedup{*speedup, fmt::format("measured on {} on {} ({})", table["device"].value_or(std::string("?")),
                                          table["measured"].value_or(std::string("?")),
                                          table["how"].value_or(std::string("bench/device-check")))};
}

std::filesystem::path gpu_speedup_file() {
  if (const char* file = std::getenv("GANLEAKS_GPU_SPEEDUP_FILE"); file && *file) return file;
  return std::filesystem::path(GANLEAKS_SOURCE_DIR) / "bench" / "measured" / "gpu_speedup.toml";
}

std::string describe_cost(const CostEstimate& cost, int ranks, const GpuSpeedup& gpu) {
  const double hours = cost.rank_seconds / 3600;
  std::string out = fmt::format(
      "Estimated cost of the jobs left: {:.3g} rank-hours on this machine's CPU ranks (units measured now), i.e. "
      "{:.3g} h of wall time on {} ranks if the jobs spread evenly; about {:.3g} GPU-hours at a {:g}x GPU/CPU-core "
      "speed-up ({}; --gpu-speedup replaces it).\n",
      hours, hours / std::max(1, ranks), ranks, hours / gpu.value, gpu.value, gpu.source);
  for (const auto& [kind, seconds] : cost.by_kind) {
    out += fmt::format("  {:<10} {:>10.3g} rank-hours\n", kind, seconds / 3600);
  }
  out += "  measured units:";
  for (const auto& [unit, seconds] : cost.unit_seconds) out += fmt::format(" {} {:.3g} s;", unit, seconds);
  out += "\n";
  return out;
}

}  // namespace ganleaks::runner
