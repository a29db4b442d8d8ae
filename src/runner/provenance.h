#pragma once
// Where and with what an experiment ran: git revision, library versions, hosts, Slurm job, command line.
#include <string>
#include <utility>
#include <vector>

#include "dist/comm.h"

namespace ganleaks::runner {

// Collective over `world` (gathers host names). `versions`: libraries beyond MPI, HDF5 and Boost, which are
// always listed ({"libtorch", "2.11.0"}). Returns TOML text.
std::string provenance_toml(const std::string& command_line, const dist::Comm& world,
                            const std::vector<std::pair<std::string, std::string>>& versions = {});

}  // namespace ganleaks::runner
