#pragma once
// Where and with what an experiment ran: git revision, library versions, hosts, Slurm job, command line.
#include <string>

#include "dist/comm.h"

namespace ganleaks::runner {

// Collective over `world` (gathers host names). Returns TOML text.
std::string provenance_toml(const std::string& command_line, const dist::Comm& world);

}  // namespace ganleaks::runner
