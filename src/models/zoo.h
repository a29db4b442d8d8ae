#pragma once
// Builds the networks of any model in the catalog (models/catalog.h) by name, saves and loads a trained
// model's release, and gives the attacks what they need of every model (docs/models.md, "Attack hooks"):
// the generator from latents, and a per-sample realness score for the `dis` setting.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "models/config.h"
#include "models/catalog.h"
#include "models/medgan.h"
#include "models/networks.h"
#include "models/unet.h"
#include "models/vae.h"

namespace ganleaks::models {

struct Networks {
  const ModelInfo* info = nullptr;
  // The decoder for the VAEs, decoder ∘ codes for medgan, the DDIM sampler of the averaged weights for ddpm
  // (models/ddpm.h).
  std::shared_ptr<GeneratorBase> generator;
  std::shared_ptr<DiscriminatorBase> discriminator;  // null for vae
  ConvEncoder encoder{nullptr};                      // vae, vaegan, vaegan-larsen
  LatentDiscriminator latent_discriminator{nullptr}; // vaegan
  MedganAutoencoder autoencoder{nullptr};            // medgan (shares its decoder with the generator)
  Unet denoiser{nullptr};                            // ddpm: the U-Net trained (the generator averages it)

  // Every module by its file name in a run folder ("generator" → generator.pt), for checkpoints and releases.
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() const;
  void train(bool on) const;
  // Every module's parameters and buffers onto `device` (in place: optimisers made before keep working).
  void to(const at::Device& device) const;
};

// sample_shape: one record's shape, (C, 32, 32) for images or (features) for records. Weights are drawn
// from LibTorch's global generator (the trainer seeds it).
Networks make_networks(const ModelConfig& config, std::span<const std::int64_t> sample_shape);

// One file per module in run_dir, each written atomically, with CPU tensors whatever the networks' device;
// load_release reads them into networks built by make_networks on `device` and switches to eval mode. A missing
// file is an error naming it.
void save_release(const Networks& networks, const std::filesystem::path& run_dir);
Networks load_release(const ModelConfig& config, std::span<const std::int64_t> sample_shape,
                      const std::filesystem::path& run_dir, const at::Device& device = at::kCPU);
// The weights of a release into networks of the same model (the transfer study's fine-tuning starts there);
// modes are left as they are.
void load_weights(const Networks& networks, const std::filesystem::path& run_dir);

// The `dis` setting's score of samples (B, ...) → (B), higher = more likely a training record: the
// discriminator's logit, or for the VAE (no discriminator) its ELBO at the posterior mean, −(½‖x − Dec(μ)‖² +
// KL) (Hilprecht et al. 2019's reconstruction signal). Diffusion models have neither (the config refuses `dis`).
at::Tensor realness(const Networks& networks, const at::Tensor& samples);

}  // namespace ganleaks::models
