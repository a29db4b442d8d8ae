#include "runner/folder.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "core/errors.h"
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

void write_text(const fs::path& file, const std::string& text) {
  io::write_atomically(file, [&](const fs::path& tmp) {
    std::ofstream out(tmp);
    out << text;
    if (!out.flush()) throw UserError(fmt::format("cannot write {}", tmp.string()));
  });
}

Layout prepare_folder(const Task& task, const std::vector<Job>& plan, bool fresh) {
  auto layout = layout_for(task.experiment());
  const auto resolved = task.resolved_config();
  if (fs::exists(layout.root) && fresh) layout.root += fmt::format("-{:%Y%m%d-%H%M%S}", local_time_now());
  // Finished jobs are reused when their hash (what they were computed from) still matches; a record made from
  // other settings is never overwritten.
  const bool changed = fs::exists(layout.config()) && read_text(layout.config()) != resolved;
  if (fs::exists(layout.root)) {
    std::vector<std::string> stale;
    for (const auto& job : plan) {
      const auto output = task.output(layout, job);
      if (job_state(output, job) == JobState::kStale) stale.push_back(fs::relative(output, layout.root).string());
    }
    if (!stale.empty()) {
      const auto count = stale.size();
      stale.resize(std::min<std::size_t>(count, 3));
      throw UserError(fmt::format(
          "{} holds results of a different config: {} finished job(s) were computed with other settings ({}{}); they are "
          "kept. Rerun with --fresh to start a new folder, or change experiment.name",
          layout.root.string(), count, fmt::join(stale, ", "), count > 3 ? ", ..." : ""));
    }
  }
  if (changed) {
    // Nothing finished depends on what changed (a sweep extended, say): keep the old config beside the new one.
    const auto old = layout.root / fmt::format("config-until-{:%Y%m%d-%H%M%S}.toml", local_time_now());
    std::error_code ec;
    fs::rename(layout.config(), old, ec);
  }
  std::vector<fs::path> dirs{layout.root, layout.logs()};
  for (const auto& folder : task.folders()) dirs.push_back(layout.root / folder);
  for (const auto& dir : dirs) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw UserError(fmt::format("cannot create results folder {}: {}", dir.string(), ec.message()));
  }
  const auto probe = layout.root / ".write-test";
  {
    std::ofstream out(probe);
    if (!(out << "ok")) throw UserError(fmt::format("results folder {} is not writable", layout.root.string()));
  }
  std::error_code ec;
  fs::remove(probe, ec);
  if (!fs::exists(layout.config())) write_text(layout.config(), resolved);
  return layout;
}

}  // namespace ganleaks::runner
