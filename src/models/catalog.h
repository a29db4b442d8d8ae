#pragma once
// The model zoo's names and what each model is (docs/models.md), without LibTorch: the config validates
// `model.name` against it and checks the model against the data and DP-SGD; models/zoo.h builds the
// networks. To add a model: one row here, its networks in models/, one case in zoo.cpp.
#include <algorithm>
#include <array>
#include <string_view>

namespace ganleaks::models {

// How a model is trained (train/trainer.cpp has one step per objective).
enum class Objective {
  kNonSaturating,  // GAN: BCE(D(x), 1) + BCE(D(G(z)), 0); G: BCE(D(G(z)), 1)
  kWassersteinGp,  // WGAN-GP critic loss with gradient penalty (PGGAN adds a drift term)
  kHinge,          // SNGAN: relu(1 − D(x)) + relu(1 + D(G(z))); G: −D(G(z))
  kVae,            // negative ELBO
  kVaeganGanLeaks, // L1 pixel reconstruction + latent and image discriminators (GAN-Leaks' code)
  kVaeganLarsen,   // KL + feature-wise reconstruction + GAN loss, shared decoder/generator
  kMedgan,         // autoencoder pretraining, then a GAN on decoded codes
  kDenoising,      // DDPM: ‖ε − ε_θ(√ᾱ_t x + √(1 − ᾱ_t) ε, t)‖², t uniform (Ho et al. 2020)
};

enum class Modality { kImages, kRecords };

struct ModelInfo {
  std::string_view name;
  Objective objective;
  Modality modality;
  bool discriminator;  // false: the `dis` attack reads the VAE's likelihood bound, the ELBO (ddpm: no `dis`)
  bool dp_sgd;         // the discriminator consists of per-sample layers only (DP-SGD possible)
  std::string_view summary;
  // The pbb/wb searches add attack.lambda_reg · (‖z‖² − dim z)² to their objective. GAN-Leaks' code does for
  // every model but its VAEGAN (wb_vaegan.py, pbb_vaegan.py: if_norm_reg=False), whose latents follow an
  // encoder's posterior rather than the prior alone.
  bool latent_norm_penalty = true;
};

inline constexpr std::array<ModelInfo, 9> kModels{{
    {"dcgan", Objective::kNonSaturating, Modality::kImages, true, true, "DCGAN (Radford et al. 2016)"},
    {"wgan-gp", Objective::kWassersteinGp, Modality::kImages, true, false,
     "DCGAN networks, WGAN-GP objective (Gulrajani et al. 2017)"},
    {"pggan", Objective::kWassersteinGp, Modality::kImages, true, false,
     "progressive growing 4→32 (Karras et al. 2018)"},
    {"sngan", Objective::kHinge, Modality::kImages, true, false, "spectral normalisation (Miyato et al. 2018)"},
    {"vae", Objective::kVae, Modality::kImages, false, false, "VAE (Kingma & Welling 2014)"},
    {"vaegan", Objective::kVaeganGanLeaks, Modality::kImages, true, false,
     "VAEGAN as GAN-Leaks trains it: L1 pixel reconstruction, latent and image discriminators", false},
    {"vaegan-larsen", Objective::kVaeganLarsen, Modality::kImages, true, false,
     "VAEGAN (Larsen et al. 2016): reconstruction in the discriminator's feature space"},
    {"medgan", Objective::kMedgan, Modality::kRecords, true, false, "MEDGAN, binary records (Choi et al. 2017)"},
    {"ddpm", Objective::kDenoising, Modality::kImages, false, false,
     "DDPM (Ho et al. 2020): a U-Net's noise prediction, EMA weights released, DDIM sampling", false},
}};

// GroupNorm groups of the ddpm U-Net: model.width must be a multiple.
inline constexpr int kUnetGroups = 8;


inline constexpr auto kModelNames = [] {
  std::array<std::string_view, kModels.size()> names{};
  std::ranges::transform(kModels, names.begin(), &ModelInfo::name);
  return names;
}();

// The row of a validated name (Config guarantees it; anything else is a programming error).
inline const ModelInfo& model_info(std::string_view name) {
  const auto it = std::ranges::find(kModels, name, &ModelInfo::name);
  return it != kModels.end() ? *it : throw std::out_of_range("models: unknown model name");
}

// Diffusion models are attacked through their noise prediction (attack settings loss, secmi, pia) and their DDIM
// samples; they have neither a discriminator nor a likelihood bound for `dis`, nor latents worth searching.
inline bool is_diffusion(std::string_view name) { return model_info(name).objective == Objective::kDenoising; }

}  // namespace ganleaks::models
