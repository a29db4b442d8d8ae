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

// Rank 0, before a run: a new folder, or the same experiment resumed; `fresh` picks a new folder name. Refuses
// (UserError naming up to three records) a folder whose finished jobs were computed with other settings; when
// the config changed without touching finished jobs (a sweep extended), the old config is kept beside the new.
Layout prepare_folder(const Task& task, const std::vector<Job>& plan, bool fresh);

std::string read_text(const std::filesystem::path& file);
// Written to a temporary name and renamed: a file is complete or absent.
void write_text(const std::filesystem::path& file, const std::string& text);

}  // namespace ganleaks::runner
