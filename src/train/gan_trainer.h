#pragma once
// Trains one DCGAN (victim or reference) on a fixed set of images, plain or with a DP-SGD discriminator, on
// one rank or data parallel over a group of ranks, with checkpoints that make an interrupted run resume to
// the same weights as an uninterrupted one.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "core/config.h"

namespace ganleaks::dist {
class TensorComm;
}

namespace ganleaks::train {

// DP-SGD for the discriminator (SPEC §2): per step, Poisson sampling of the real records with rate q, one
// forward of real and generated rows together, every row clipped to C, noise N(0, σ²C²), division by qN.
// The generated rows per step are round(qN) (at least 1), a number that does not depend on the data.
struct DpTraining {
  double max_grad_norm = 1.0;
  double noise_multiplier = 1.0;
  double sample_rate = 0.01;
  bool secure_noise = false;
};

struct GanRunSpec {
  ModelConfig model;
  TrainConfig train;
  std::optional<DpTraining> dp;    // none: ordinary minibatch training
  // Data-parallel group (every rank of it calls train_gan with the same spec); null: this rank alone.
  // Rank 0 of the group writes the checkpoints and the release.
  dist::TensorComm* group = nullptr;
  std::uint64_t seed = 0;          // weights, latent draws and batch order all derive from it
  std::filesystem::path run_dir;   // receives checkpoint.pt, generator.pt, discriminator.pt
};

struct GanRunResult {
  std::int64_t iterations = 0;
  std::int64_t resumed_from = 0;   // iteration of the checkpoint it resumed from, 0 if none
  std::vector<float> loss_d, loss_g;  // one value per iteration
  // DP runs: the real rows Poisson-sampled per discriminator step (critic_steps per iteration), and per
  // iteration the share of the last step's rows whose gradient norm exceeded C.
  std::vector<float> dp_batch_size, dp_clipped_fraction;
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
