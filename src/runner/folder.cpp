#include "runner/folder.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/seeding.h"
#include "io/atomic_file.h"
#include "runner/task.h"

namespace ganleaks::runner {
namespace fs = std::filesystem;
namespace {

std::tm local_time_now() {
  const auto now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return tm;
}

}  // namespace

Layout layout_for(const ExperimentConfig& experiment) {
  return Layout{fs::path(experiment.results_dir) / experiment.name};
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

FolderLock::FolderLock(const fs::path& folder, const std::string& resolved_config) {
  const auto lock_file = [&](const std::string& name) {
    const auto path = folder / name;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw UserError(fmt::format("cannot create the lock file {}: {}", path.string(), std::strerror(errno)));
    return fd;
  };
  // The guard serialises the runs that start at once, for the check below.
  const int guard = lock_file(".lock");
  while (::flock(guard, LOCK_EX) != 0 && errno == EINTR) {
  }
  const auto mine = fmt::format(".run-{:016x}.lock", hash_tag(resolved_config));
  fd_ = lock_file(mine);
  ::flock(fd_, LOCK_SH);  // runs of this config share the folder
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with(".run-") || !name.ends_with(".lock") || name == mine) continue;
    const int other = ::open(entry.path().c_str(), O_RDWR | O_CLOEXEC);
    if (other < 0) continue;
    const bool held = ::flock(other, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (!held) fs::remove(entry.path(), ec);  // a finished run's: nobody holds it
    ::close(other);
    if (held) {
      ::close(fd_);
      ::close(guard);
      throw UserError(fmt::format("{} is in use by a run of another config (its lock {} is held); wait for that run to "
                                  "end, or give this one another experiment.name",
                                  folder.string(), entry.path().filename().string()));
    }
  }
  ::close(guard);
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

FolderLock::FolderLock(FolderLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

namespace {

// What a write interrupted by a killed process leaves (io::temporary_name): "<file>.tmp-<host>-<pid>" of a
// process of this host that no longer runs (another host's are left to their own runs).
void remove_orphaned_temporaries(const fs::path& folder) {
  const auto here = io::temporary_name("x").filename().string();  // "x.tmp-<host>-<pid>"
  const auto host = here.substr(6, here.rfind('-') - 6);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    const auto at = name.rfind(".tmp-" + host + "-");
    if (at == std::string::npos) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + at + 6 + host.size(), &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

}  // namespace

PreparedFolder prepare_folder(const Task& task, const std::vector<Job>& plan, bool fresh) {
  auto layout = layout_for(task.experiment());
  const auto resolved = task.resolved_config();
  if (fs::exists(layout.root) && fresh) layout.root += fmt::format("-{:%Y%m%d-%H%M%S}", local_time_now());
  std::error_code ec;
  fs::create_directories(layout.root, ec);
  if (ec) throw UserError(fmt::format("cannot create results folder {}: {}", layout.root.string(), ec.message()));
  PreparedFolder prepared{.layout = layout, .lock = FolderLock(layout.root, resolved)};
  remove_orphaned_temporaries(layout.root);
  // Finished jobs are reused when their hash (what they were computed from) still matches; a record made from
  // other settings is never overwritten. A record that cannot be trusted is done again.
  const bool changed = fs::exists(layout.config()) && read_text(layout.config()) != resolved;
  std::vector<std::string> stale;
  for (const auto& job : plan) {
    const auto output = task.output(layout, job);
    std::string problem;
    const auto state = job_state(output, job, &problem);
    if (state == JobState::kStale) stale.push_back(fs::relative(output, layout.root).string());
    if (state == JobState::kBroken) prepared.broken.push_back(fmt::format("{}: {}", output.string(), problem));
  }
  if (!stale.empty()) {
    const auto count = stale.size();
    stale.resize(std::min<std::size_t>(count, 3));
    throw UserError(fmt::format(
        "{} holds results of a different config: {} finished job(s) were computed with other settings ({}{}); they are "
        "kept. Rerun with --fresh to start a new folder, or change experiment.name",
        layout.root.string(), count, fmt::join(stale, ", "), count > 3 ? ", ..." : ""));
  }
  if (changed) {
    // Nothing finished depends on what changed (a sweep extended, say): keep the old config beside the new one.
    const auto old = layout.root / fmt::format("config-until-{:%Y%m%d-%H%M%S}.toml", local_time_now());
    fs::rename(layout.config(), old, ec);
  }
  std::vector<fs::path> dirs{layout.logs()};
  for (const auto& folder : task.folders()) dirs.push_back(layout.root / folder);
  for (const auto& dir : dirs) {
    fs::create_directories(dir, ec);
    if (ec) throw UserError(fmt::format("cannot create results folder {}: {}", dir.string(), ec.message()));
  }
  const auto probe = layout.root / ".write-test";
  {
    std::ofstream out(probe);
    if (!(out << "ok")) throw UserError(fmt::format("results folder {} is not writable", layout.root.string()));
  }
  fs::remove(probe, ec);
  if (!fs::exists(layout.config())) io::write_file(layout.config(), resolved);
  return prepared;
}

}  // namespace ganleaks::runner
