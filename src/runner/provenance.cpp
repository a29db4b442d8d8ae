#include "runner/provenance.h"

#include <H5public.h>
#include <boost/version.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <ctime>
#include <sstream>

#include "dist/collectives.h"
#include "git_revision.h"  // generated at build time: GANLEAKS_GIT_REVISION


namespace ganleaks::runner {

std::string provenance_toml(const std::string& command_line, const dist::Comm& world,
                            const std::vector<std::pair<std::string, std::string>>& extra_versions) {
  toml::array hosts;
  for (auto& host : dist::all_gather_values(world, dist::host_name())) hosts.push_back(std::move(host));

  unsigned h5_major = 0, h5_minor = 0, h5_release = 0;
  H5get_libversion(&h5_major, &h5_minor, &h5_release);
  const char* slurm_job = std::getenv("SLURM_JOB_ID");
  const char* slurm_restart = std::getenv("SLURM_RESTART_COUNT");

  const auto now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);

  toml::table versions;
  versions.insert("ganleaks", std::string(GANLEAKS_VERSION));
  for (const auto& [library, version] : extra_versions) versions.insert(library, version);
  versions.insert("mpi", dist::mpi_library_version());
  versions.insert("hdf5", fmt::format("{}.{}.{}", h5_major, h5_minor, h5_release));
  versions.insert("boost", std::string(BOOST_LIB_VERSION));
  toml::table table;
  table.insert("git_revision", std::string(GANLEAKS_GIT_REVISION));
  table.insert("started", fmt::format("{:%Y-%m-%dT%H:%M:%S%z}", local));
  table.insert("command_line", command_line);
  table.insert("ranks", static_cast<std::int64_t>(world.size()));
  table.insert("hosts", std::move(hosts));
  table.insert("slurm_job_id", std::string(slurm_job ? slurm_job : ""));
  table.insert("slurm_restart_count", std::string(slurm_restart ? slurm_restart : ""));
  table.insert("versions", std::move(versions));
  std::ostringstream out;
  out << table << "\n";
  return out.str();
}

}  // namespace ganleaks::runner
