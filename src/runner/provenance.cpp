#include "runner/provenance.h"

#include <H5public.h>
#include <boost/version.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <torch/version.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <ctime>
#include <sstream>

#include "io/h5.h"
#include "git_revision.h"  // generated at build time: GANLEAKS_GIT_REVISION


namespace ganleaks::runner {

Placement placement(int rank, int ranks) {
  const auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  auto job = env("SLURM_JOB_ID");
  if (!env("SLURM_ARRAY_TASK_ID").empty()) job = env("SLURM_ARRAY_JOB_ID") + "_" + env("SLURM_ARRAY_TASK_ID");
  if (!job.empty() && !env("SLURM_RESTART_COUNT").empty()) job += " (restart " + env("SLURM_RESTART_COUNT") + ")";
  return {.rank = rank, .ranks = ranks, .host = dist::host_name(), .slurm_job = job,
          .gpus = env("CUDA_VISIBLE_DEVICES").empty() ? "none" : env("CUDA_VISIBLE_DEVICES")};
}

void record_placement(const io::H5Group& group, const Placement& where) {
  group.set_attr("rank", where.rank);
  group.set_attr("ranks", where.ranks);
  group.set_attr("host", where.host);
  group.set_attr("slurm_job", where.slurm_job);
  group.set_attr("gpus", where.gpus);
  group.set_attr("device", where.device);
}

std::string provenance_toml(const std::string& command_line, const dist::Comm& world) {
  const auto host = dist::host_name();
  const auto parts = world.all_gather(std::as_bytes(std::span(host.data(), host.size())));
  toml::array hosts;
  for (const auto& p : parts) hosts.push_back(std::string(reinterpret_cast<const char*>(p.data()), p.size()));

  unsigned h5_major = 0, h5_minor = 0, h5_release = 0;
  H5get_libversion(&h5_major, &h5_minor, &h5_release);
  const char* slurm_job = std::getenv("SLURM_JOB_ID");
  const char* slurm_restart = std::getenv("SLURM_RESTART_COUNT");

  const auto now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);

  toml::table versions;
  versions.insert("ganleaks", std::string(GANLEAKS_VERSION));
  versions.insert("libtorch", std::string(TORCH_VERSION));
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
