#pragma once
// [model]: which models of the zoo (models/catalog.h) and their size.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "models/catalog.h"

namespace ganleaks {

struct ModelConfig {
  static constexpr std::string_view kSection = "model";
  std::vector<std::string> names{"dcgan"};
  int z_dim = 100;
  int width = 32;
  // ddpm only (models/ddpm.h): they reach the job hashes of ddpm's jobs alone (diffusion_hash_text).
  static constexpr std::array<std::string_view, 2> kBetaSchedules{"linear", "cosine"};
  int diffusion_steps = 1000;
  std::string beta_schedule = "linear";
  int sampling_steps = 50;
  double ema_decay = 0.999;
  int unet_blocks = 1;
  bool attention = false;

  // The model a builder makes: the first name (jobs pass only(their model)).
  const std::string& name() const { return names.front(); }
  ModelConfig only(const std::string& name) const {
    auto one = *this;
    one.names = {name};
    return one;
  }

  void visit(KeyVisitor& v) {
    v.one_or_more("name", names, models::kModelNames,
                  "the model ([`docs/models.md`](../docs/models.md)): `medgan` takes records, the others images; an "
                  "array compares models: each gets its own jobs, and job names start with the model "
                  "(`vae-victim-n64-s0`). The model must fit `data.dataset`; DP-SGD is available for `dcgan` only");
    v.integer("z_dim", z_dim, {1, 4096}, "latent (noise) dimension; `medgan`: also its code dimension");
    v.integer("width", width, {4, 1024},
              "base channel count (`medgan`: its discriminator's hidden layer has 8 × width units; `ddpm`: the U-Net's "
              "channels at full resolution, a multiple of 8)");
    v.integer("diffusion_steps", diffusion_steps, {2, 100'000}, "`ddpm`: T, the noising steps");
    v.choice("beta_schedule", beta_schedule, kBetaSchedules,
             "`ddpm`: the β schedule: `linear` 1e-4 to 0.02 (Ho et al. 2020) or `cosine` (Nichol & Dhariwal 2021)");
    v.integer("sampling_steps", sampling_steps, {1, 100'000},
              "`ddpm`: deterministic DDIM steps from noise to a sample (at most `diffusion_steps`); the generator the "
              "sample-based attacks and the sample quality use");
    v.real("ema_decay", ema_decay, kAdamBeta,
           "`ddpm`: decay of the exponential moving average of the weights, the released model (0: the trained "
           "weights themselves)");
    v.integer("unet_blocks", unet_blocks, {1, 8}, "`ddpm`: residual blocks per resolution of the U-Net");
    v.boolean("attention", attention, "`ddpm`: self-attention at the U-Net's lowest resolution (8 × 8)");
  }
  // Why these keys cannot train ddpm (a width GroupNorm cannot split, more DDIM steps than noising steps), or "".
  std::string problem() const;
  bool operator==(const ModelConfig&) const = default;
};

// What of [model] a job of `model` depends on beyond z_dim and width, for its hash: ddpm's keys, "" for every other
// model (so that their jobs keep the hashes they had before ddpm).
std::string diffusion_hash_text(const ModelConfig& config, std::string_view model);

}  // namespace ganleaks
