#pragma once
// Trains one DCGAN (victim or reference) on a fixed set of images, with checkpoints that make an
// interrupted run resume to the same weights as an uninterrupted one.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "core/config.h"

namespace ganleaks::train {

struct GanRunSpec {
  ModelConfig model;
  TrainConfig train;
  std::uint64_t seed = 0;          // weights, latent draws and batch order all derive from it
  std::filesystem::path run_dir;   // receives checkpoint.pt, generator.pt, discriminator.pt
};

struct GanRunResult {
  std::int64_t iterations = 0;
  std::int64_t resumed_from = 0;   // iteration of the checkpoint it resumed from, 0 if none
  std::vector<float> loss_d, loss_g;  // one value per iteration
};

// File names inside a run folder, shared by the trainer and the attacks that load the release.
inline std::filesystem::path generator_file(const std::filesystem::path& run_dir) {
  return run_dir / "generator.pt";
}
inline std::filesystem::path discriminator_file(const std::filesystem::path& run_dir) {
  return run_dir / "discriminator.pt";
}

// images: (N, 1, 32, 32) float in [-1, 1]. on_step runs after every iteration (the coordinator uses it
// to answer other ranks while this one trains).
GanRunResult train_gan(const GanRunSpec& spec, const at::Tensor& images,
                       const std::function<void(std::int64_t)>& on_step = {});

}  // namespace ganleaks::train
