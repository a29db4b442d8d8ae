#pragma once
// Trains one model of the zoo (victim or reference; models/catalog.h) on a fixed set of records, with the
// objective its catalog entry names, plain or (dcgan) with a DP-SGD discriminator, on one rank or data
// parallel over a group of ranks, with checkpoints that make an interrupted run resume to the same weights
// as an uninterrupted one.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "models/config.h"
#include "privacy/clipping.h"
#include "train/config.h"
#include "models/zoo.h"

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
  privacy::Clipping clipping = privacy::Clipping::kBookKeeping;  // privacy.clipping
  // N of the guarantee (privacy::DpSettings::records), from which the generated rows per step round(qN) and the
  // divisor qN come; 0: the records trained on. They must not follow the records trained on when those differ
  // from N: under add/remove adjacency a record added may change the sampled real rows and nothing else (an
  // audit found the with-canary runs' one more generated row per step; docs/privacy.md).
  std::int64_t accounted_records = 0;
};

struct RunSpec {
  ModelConfig model;               // the model to train is model.name() (Config::model.only(name))
  TrainConfig train;
  std::optional<DpTraining> dp;    // none: ordinary minibatch training
  // Data-parallel group (every rank of it calls train_model with the same spec); null: this rank alone.
  // Rank 0 of the group writes the checkpoints and the release.
  dist::TensorComm* group = nullptr;
  std::uint64_t seed = 0;          // weights, latent draws and batch order all derive from it
  // Where it trains (dist/device.h). Weights are initialised and every random draw is made on the CPU, then moved:
  // the same draws on every device. bf16: forward and backward under CUDA autocast (bfloat16 matrix products,
  // float32 weights and optimiser); ignored on the CPU.
  at::Device device = at::kCPU;
  bool bf16 = false;
  // What the run was asked with (the job's hash): a checkpoint written with other settings is not resumed.
  std::string settings;
  std::filesystem::path run_dir;   // receives checkpoint.pt and the release (models/zoo.h: generator.pt, ...)
  // A release of the same model to start from instead of fresh weights (fine-tuning; optimisers start fresh).
  std::filesystem::path init_from;
  // Asked after every iteration (null: never): true stops the run there with a checkpoint and throws
  // ganleaks::Interrupted (core/interrupt.h); a data-parallel group stops at the step any of its ranks asks to.
  std::function<bool()> interrupt;
};

struct RunResult {
  std::int64_t iterations = 0;     // all of them, medgan's autoencoder pretraining included
  std::int64_t resumed_from = 0;   // iteration of the checkpoint it resumed from, 0 if none
  // One value per iteration: the discriminator's and the generator's loss (vae: loss_g is the negative
  // ELBO and loss_d NaN; medgan's pretraining: loss_g is the autoencoder's loss and loss_d NaN).
  std::vector<float> loss_d, loss_g;
  // DP runs: the real rows Poisson-sampled per discriminator step (critic_steps per iteration), and per
  // iteration the share of the last step's rows whose gradient norm exceeded C.
  std::vector<float> dp_batch_size, dp_clipped_fraction;
  models::Networks networks;  // the trained model, in eval mode
};

// File names inside a run folder, shared by the trainer and the attacks that load the release.
inline std::filesystem::path generator_file(const std::filesystem::path& run_dir) {
  return run_dir / "generator.pt";
}
inline std::filesystem::path discriminator_file(const std::filesystem::path& run_dir) {
  return run_dir / "discriminator.pt";
}

// Iterations before spec.train.iterations: MEDGAN's autoencoder pretraining (train.pretrain_iterations), 0 for
// every other model. A run has pretraining_iterations(spec) + spec.train.iterations in all.
std::int64_t pretraining_iterations(const RunSpec& spec);

// records: (N, 1, 32, 32) images in [-1, 1], or (N, features) records (medgan), on any device (moved to
// spec.device once). on_step runs after every iteration (the coordinator uses it to answer other ranks while this
// one trains). The returned networks are on spec.device.
RunResult train_model(const RunSpec& spec, const at::Tensor& records,
                       const std::function<void(std::int64_t)>& on_step = {});

}  // namespace ganleaks::train
