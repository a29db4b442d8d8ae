#pragma once
// The experiment folder's life before any job: where it is, whether a run may use it (a folder holding
// records of other settings is never touched), and the files written whole or not at all.
#include <filesystem>
#include <string>
#include <vector>

#include "runner/config.h"
#include "runner/layout.h"
#include "runner/plan.h"

namespace ganleaks::runner {

class Task;

// results_dir / name.
Layout layout_for(const ExperimentConfig& experiment);

// One run per experiment folder at a time: runs of other configs are refused while one holds it; runs of the same
// config (the slices of a job array) share it by design. Held from before the folder is prepared until the run ends,
// by rank 0, through flock(2): the kernel releases it when the process ends however it ends (a crash, a Slurm
// requeue), so there is nothing stale to clean up.
class FolderLock {
 public:
  // Throws UserError when a run of another config holds `folder`.
  FolderLock(const std::filesystem::path& folder, const std::string& resolved_config);
  ~FolderLock();
  FolderLock(FolderLock&& other) noexcept;
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  FolderLock& operator=(FolderLock&&) = delete;

 private:
  int fd_ = -1;  // this config's run file, held shared
};

struct PreparedFolder {
  Layout layout;
  FolderLock lock;
  std::vector<std::string> broken;  // records that cannot be trusted ("path: why"); their jobs are done again
};

// Rank 0, before a run: a new folder, or the same experiment resumed; `fresh` picks a new folder name. Refuses
// (UserError naming up to three records) a folder whose finished jobs were computed with other settings, and a
// folder another config's run holds; when the config changed without touching finished jobs (a sweep extended), the
// old config is kept beside the new. Temporary files of writes that a killed run left behind are removed.
PreparedFolder prepare_folder(const Task& task, const std::vector<Job>& plan, bool fresh);

std::string read_text(const std::filesystem::path& file);

}  // namespace ganleaks::runner
