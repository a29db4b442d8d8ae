#pragma once
// Where a job ran, for its record (SPEC §5 provenance per job): the first of its ranks, their count, the host, the
// Slurm job (with array task and restart count), the GPUs the rank was given (CUDA_VISIBLE_DEVICES) and the device
// it computed on ("cpu", "cuda:0").
#include <cstdint>
#include <string>

namespace ganleaks::io {
class H5Group;
}

namespace ganleaks::dist {

struct Placement {
  std::int64_t rank = 0, ranks = 1;
  std::string host, slurm_job, gpus, device;
};
Placement placement(int rank, int ranks, const std::string& device);
// As attributes rank, ranks, host, slurm_job, gpus, device.
void record_placement(const io::H5Group& group, const Placement& where);

}  // namespace ganleaks::dist
