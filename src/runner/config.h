#pragma once
// [experiment]: what every task's config starts with, and all the runner reads of it (runner/task.h).
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace ganleaks {

inline constexpr std::string_view kDevices[] = {"auto", "cpu", "cuda"};
inline constexpr std::string_view kPrecisions[] = {"fp32", "bf16"};

struct ExperimentConfig {
  static constexpr std::string_view kSection = "experiment";
  std::string task;                     // set by each task's config to its own name
  std::string name = "experiment";
  std::string results_dir = "results";
  std::vector<std::uint64_t> seeds{0};
  int threads_per_rank = 1;
  int ranks_per_run = 1;
  std::string device = "auto";
  std::string precision = "fp32";
  bool deterministic = true;
  bool tf32 = false;

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
    v.choice("device", device, kDevices,
             "where a rank computes: `auto` takes the GPU cuda:(local rank mod GPUs it sees) when CUDA is usable, else "
             "the CPU; `cuda` without a usable GPU is an error. Not in the job hashes: a run may resume on other "
             "hardware; every record says where its job ran",
             /*affects_results=*/false);
    v.choice("precision", precision, kPrecisions,
             "training arithmetic on a GPU: `bf16` trains under autocast (bfloat16 matrix products, float32 weights); "
             "the CPU always trains in float32. Attacks and metrics compute in float32. In the job hashes when `bf16`");
    v.boolean("deterministic", deterministic,
              "GPU: deterministic cuDNN and cuBLAS algorithms, no TF32, so the same config and seed give the same "
              "scores on 1, 2 or 4 GPU ranks (the CPU always does). Not in the job hashes, like `device`",
              /*affects_results=*/false);
    v.boolean("tf32", tf32,
              "GPU: TensorFloat-32 matrix products and convolutions (faster, 10-bit mantissa); needs "
              "deterministic = false. Not in the job hashes, like `device`",
              /*affects_results=*/false);
  }
  bool operator==(const ExperimentConfig&) const = default;

  // The rule between its keys, for each task's check: "" or what is wrong.
  std::string problem() const {
    return tf32 && deterministic ? "experiment.tf32 = true needs experiment.deterministic = false (TF32 rounds "
                                   "differently by kernel choice)"
                                 : "";
  }
};

}  // namespace ganleaks
