#pragma once
// What one training run holds between its steps, shared by the loop (trainer.cpp) and its checkpoints
// (checkpoint.cpp): the batch sampler, this rank's place in a data-parallel group, the networks and optimisers,
// and the DP-SGD state. Private to src/train.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adam.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/seeding.h"
#include "dist/tensor_comm.h"
#include "privacy/dp_sgd.h"
#include "train/trainer.h"

namespace ganleaks::train {

// Batch order: a fresh seeded permutation of the training set per epoch. Kept outside torch so that
// it is platform-independent and its state checkpoints as text.
class BatchSampler {
 public:
  BatchSampler(std::int64_t n, std::int64_t batch, std::uint64_t seed)
      : n_(n), batch_(std::min(n, batch)), rng_(seed) {}

  std::vector<std::int64_t> next() {
    std::vector<std::int64_t> out;
    out.reserve(batch_);
    while (static_cast<std::int64_t>(out.size()) < batch_) {
      if (cursor_ == order_.size()) refill();
      out.push_back(order_[cursor_++]);
    }
    return out;
  }

  std::string state() const {
    std::ostringstream s;
    s << rng_.engine() << ' ' << cursor_ << ' ' << order_.size();
    for (auto i : order_) s << ' ' << i;
    return s.str();
  }
  void restore(const std::string& text) {
    std::istringstream s(text);
    std::size_t size = 0;
    s >> rng_.engine() >> cursor_ >> size;
    order_.resize(size);
    for (auto& i : order_) s >> i;
    TORCH_CHECK(!s.fail(), "checkpoint: corrupt batch-sampler state");
  }

 private:
  void refill() {
    order_.resize(n_);
    for (std::int64_t i = 0; i < n_; ++i) order_[i] = i;
    rng_.shuffle(std::span<std::int64_t>(order_));
    cursor_ = 0;
  }
  std::int64_t n_, batch_;
  Rng rng_;
  std::vector<std::int64_t> order_;
  std::size_t cursor_ = 0;
};

// This rank's place in a data-parallel group (a group of one without RunSpec::group). Every rank draws
// the same global batch and latents and works on its shard of them (positions rank, rank + W, ...);
// gradients are summed over the group, so every rank takes the same step.
struct Group {
  dist::TensorComm* comm = nullptr;
  int rank = 0, ranks = 1;

  explicit Group(dist::TensorComm* c) : comm(c), rank(c ? c->rank() : 0), ranks(c ? c->size() : 1) {}

  void sum(std::vector<at::Tensor>& tensors) const {
    if (comm) comm->all_reduce(tensors);
  }
  void sum_gradients(torch::nn::Module& module) const {
    std::vector<at::Tensor> grads;
    for (auto& p : module.parameters()) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.grad());
    }
    sum(grads);
  }
  torch::Tensor shard_rows(const std::vector<std::int64_t>& rows, const at::Device& device) const {
    std::vector<std::int64_t> mine;
    for (std::size_t i = static_cast<std::size_t>(rank); i < rows.size(); i += static_cast<std::size_t>(ranks)) {
      mine.push_back(rows[i]);
    }
    return torch::tensor(mine, torch::kLong).to(device);
  }
  torch::Tensor shard(const torch::Tensor& batch) const {
    return ranks == 1 ? batch : batch.slice(0, rank, batch.size(0), ranks);
  }
};

// One run's networks and optimisers. Optimisers by objective: every GAN-like model has "opt_g" (generator)
// and "opt_d" (discriminator); the VAE one "opt_g" over encoder and decoder, ddpm one "opt_g" over its U-Net; the VAEGANs add "opt_e" (encoder),
// GAN-Leaks' VAEGAN "opt_dl" (latent discriminator); MEDGAN adds "opt_ae" (autoencoder pretraining).
struct TrainState {
  models::Networks nets;
  std::vector<std::pair<std::string, std::unique_ptr<torch::optim::Adam>>> optimizers;
  at::Generator noise;  // latent and other per-step draws, on the CPU (copied to the device)

  TrainState(const RunSpec& spec, std::span<const std::int64_t> sample_shape)
      : nets(models::make_networks(spec.model, sample_shape)),
        noise(at::make_generator<at::CPUGeneratorImpl>(derive_seed(spec.seed, "train-noise"))) {
    nets.to(spec.device);  // before the optimisers, whose state then lives there too
    const auto& t = spec.train;
    const auto adam = [&](std::vector<at::Tensor> params, double lr) {
      return std::make_unique<torch::optim::Adam>(std::move(params),
                                                  torch::optim::AdamOptions(lr).betas({t.beta1, t.beta2}));
    };
    // ddpm: the trained U-Net; the generator holds its average, which no optimiser touches.
    auto generator_params = nets.denoiser ? nets.denoiser->parameters() : nets.generator->parameters();
    if (nets.info->objective == models::Objective::kVae) {
      for (auto& p : nets.encoder->parameters()) generator_params.push_back(p);
    }
    optimizers.emplace_back("opt_g", adam(generator_params, t.lr_g));
    if (nets.discriminator) optimizers.emplace_back("opt_d", adam(nets.discriminator->parameters(), t.lr_d));
    if (nets.info->objective == models::Objective::kVaeganLarsen ||
        nets.info->objective == models::Objective::kVaeganGanLeaks) {
      optimizers.emplace_back("opt_e", adam(nets.encoder->parameters(), t.lr_g));
    }
    if (nets.latent_discriminator) {
      // GAN-Leaks' VAEGAN: the latent discriminator learns at half the image discriminator's rate (train.py:
      // 2e-4 against 4e-4).
      optimizers.emplace_back("opt_dl", adam(nets.latent_discriminator->parameters(), t.lr_d / 2));
    }
    if (nets.autoencoder) optimizers.emplace_back("opt_ae", adam(nets.autoencoder->parameters(), t.lr_g));
  }

  torch::optim::Adam& optimizer(std::string_view name) {
    for (auto& [n, o] : optimizers) {
      if (n == name) return *o;
    }
    throw std::logic_error("train: no optimiser " + std::string(name));
  }
  models::GeneratorBase& g() { return *nets.generator; }
  models::DiscriminatorBase& d() { return *nets.discriminator; }
};

// The DP-SGD side of a run: Poisson sampler, noise source and the discriminator's per-sample layers.
struct DpState {
  DpTraining options;
  privacy::PoissonSampler sampler;
  privacy::NoiseSource noise;
  std::vector<privacy::PerSampleLayer*> layers;
  double expected_batch;     // qN
  std::int64_t fake_rows;    // round(qN), at least 1

  DpState(const DpTraining& o, std::int64_t records, std::uint64_t seed, torch::nn::Module& discriminator)
      : options(o),
        sampler(records, o.sample_rate, derive_seed(seed, "dp-sampling")),
        noise(o.secure_noise ? privacy::NoiseSource::secure()
                             : privacy::NoiseSource::seeded(derive_seed(seed, "dp-noise"))),
        layers(privacy::per_sample_layers(discriminator)),
        expected_batch(o.sample_rate * static_cast<double>(o.accounted_records > 0 ? o.accounted_records : records)),
        fake_rows(std::max<std::int64_t>(1, std::llround(expected_batch))) {
    privacy::check_dp_compatible(discriminator, "DP-SGD discriminator");
  }
};

// A checkpoint holds everything the next step depends on (networks, optimisers, noise and sampler states, the losses
// so far), so that a resumed run ends bit-identical to an uninterrupted one (checkpoint.cpp).
void save_checkpoint(const std::filesystem::path& file, const std::string& settings, TrainState& s,
                     const BatchSampler& sampler, std::optional<DpState>& dp, std::int64_t iteration,
                     const RunResult& result);
// The iteration to continue from.
std::int64_t load_checkpoint(const std::filesystem::path& file, TrainState& s, BatchSampler& sampler,
                             std::optional<DpState>& dp, RunResult& result);
// Why `file` must not be resumed for a run asked with `settings` (it was written with others, or cannot be read),
// or "" when it may.
std::string checkpoint_problem(const std::filesystem::path& file, const std::string& settings);

}  // namespace ganleaks::train
