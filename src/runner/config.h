#pragma once
// [experiment]: what every task's config starts with, and all the runner reads of it (runner/task.h).
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace ganleaks {

struct ExperimentConfig {
  static constexpr std::string_view kSection = "experiment";
  std::string task;                     // set by each task's config to its own name
  std::string name = "experiment";
  std::string results_dir = "results";
  std::vector<std::uint64_t> seeds{0};
  int threads_per_rank = 1;
  int ranks_per_run = 1;

  void visit(KeyVisitor& v) {
    v.text("task", task, TextRule{"the name of a task (below)", kName.ok},
           "what the experiment measures: the task, which brings its own sections (below, per task); a section of "
           "another task is an error");
    v.text("name", name, kName, "folder under `results_dir` that holds this experiment's results",
           /*affects_results=*/false);
    v.text("results_dir", results_dir, kNonEmpty, "directory that holds experiment folders", /*affects_results=*/false);
    v.integers("seeds", seeds, {0, kMaxSeed}, "one sweep per seed; data splits and training differ per seed");
    v.integer("threads_per_rank", threads_per_rank, {1, 256}, "LibTorch intra-op threads per MPI rank");
    v.integer("ranks_per_run", ranks_per_run, {1, 4096},
              "ranks that train one model together, data parallel (groups of consecutive ranks; the global batch is "
              "sharded, gradients summed); must divide the rank count; collective jobs always use every rank");
  }
  bool operator==(const ExperimentConfig&) const = default;
};

}  // namespace ganleaks
