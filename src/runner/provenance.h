#pragma once
// Where and with what an experiment ran: git revision, library versions, hosts, Slurm job, command line.
#include <cstdint>
#include <string>

#include "dist/comm.h"

namespace ganleaks::io {
class H5Group;
}

namespace ganleaks::runner {

// Collective over `world` (gathers host names). Returns TOML text.
std::string provenance_toml(const std::string& command_line, const dist::Comm& world);

// Where one job ran, for its record (SPEC §5 provenance per job): the first of its ranks, their count, the host,
// the Slurm job (with array task and restart count) and the GPUs the rank was given (CUDA_VISIBLE_DEVICES).
// The models compute on the CPU (`device`); the GPUs are recorded for the cluster's accounting.
struct Placement {
  std::int64_t rank = 0, ranks = 1;
  std::string host, slurm_job, gpus, device = "cpu";
};
Placement placement(int rank, int ranks);
// As attributes rank, ranks, host, slurm_job, gpus, device.
void record_placement(const io::H5Group& group, const Placement& where);

}  // namespace ganleaks::runner
