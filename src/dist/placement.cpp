#include "dist/placement.h"

#include <cstdlib>

#include "dist/comm.h"
#include "io/h5.h"

namespace ganleaks::dist {

Placement placement(int rank, int ranks, const std::string& device) {
  const auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  auto job = env("SLURM_JOB_ID");
  if (!env("SLURM_ARRAY_TASK_ID").empty()) job = env("SLURM_ARRAY_JOB_ID") + "_" + env("SLURM_ARRAY_TASK_ID");
  if (!job.empty() && !env("SLURM_RESTART_COUNT").empty()) job += " (restart " + env("SLURM_RESTART_COUNT") + ")";
  return {.rank = rank, .ranks = ranks, .host = host_name(), .slurm_job = job,
          .gpus = env("CUDA_VISIBLE_DEVICES").empty() ? "none" : env("CUDA_VISIBLE_DEVICES"), .device = device};
}

void record_placement(const io::H5Group& group, const Placement& where) {
  group.set_attr("rank", where.rank);
  group.set_attr("ranks", where.ranks);
  group.set_attr("host", where.host);
  group.set_attr("slurm_job", where.slurm_job);
  group.set_attr("gpus", where.gpus);
  group.set_attr("device", where.device);
}

}  // namespace ganleaks::dist
