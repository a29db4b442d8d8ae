#pragma once
// VAE (Kingma & Welling 2014, "Auto-Encoding Variational Bayes") and the two VAEGANs for 32x32 images in
// [-1, 1], scaled by a base width w, on DCGAN-shaped networks: GAN-Leaks' (`vaegan`, the authors' code
// gan_models/vaegan/train.py: L1 pixel reconstruction, a latent discriminator in place of the KL, an image
// discriminator) and Larsen et al. 2016's (`vaegan-larsen`, "Autoencoding beyond pixels using a learned
// similarity metric": reconstruction in the discriminator's feature space).
//
// Encoder: 32x32 -> 16x16 (w) -> 8x8 (2w) -> 4x4 (4w), BatchNorm + LeakyReLU(0.2), then two linear heads
// giving the Gaussian posterior q(z|x) = N(mean, diag(exp(log_var))).
// Decoder: the DCGAN generator itself (models/dcgan.h, DcganGenerator), z -> 32x32, tanh output; it is
// the model's generator.
// Larsen's VAEGAN discriminator: 32x32 -> 16x16 (w) -> 8x8 (2w) -> 4x4 (4w), LeakyReLU(0.2), no normalisation (every
// sample scored on its own), then one linear logit. The 4x4 activations are Larsen et al.'s Dis_l, the
// space in which VAEGAN measures reconstructions.
#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/dcgan.h"
#include "models/networks.h"
#include "models/spectral_norm.h"
#include "privacy/grad_sample.h"

namespace ganleaks::models {

// The encoder mirrors the DCGAN generator that decodes, so both take the DCGAN's options.
using VaeOptions = DcganOptions;

// q(z|x) = N(mean, diag(exp(log_var))), both (B, z_dim).
struct Posterior {
  at::Tensor mean, log_var;
};

class ConvEncoderImpl : public torch::nn::Module {
 public:
  explicit ConvEncoderImpl(const VaeOptions& options);
  Posterior forward(const at::Tensor& x);  // (B, channels, 32, 32) -> (B, z_dim) twice

 private:
  VaeOptions options_;
  torch::nn::Sequential net_{nullptr};
  torch::nn::Linear mean_{nullptr}, log_var_{nullptr};
};
TORCH_MODULE(ConvEncoder);

class VaeganDiscriminatorImpl : public DiscriminatorBase {
 public:
  explicit VaeganDiscriminatorImpl(const VaeOptions& options);
  at::Tensor features(const at::Tensor& x);          // (B, channels, 32, 32) -> (B, 4w * 4 * 4), Dis_l
  at::Tensor forward(const at::Tensor& x) override;  // (B, channels, 32, 32) -> (B) logits

 private:
  torch::nn::Sequential net_{nullptr};
  privacy::PerSampleLinear logit_{nullptr};
};
TORCH_MODULE(VaeganDiscriminator);

// GAN-Leaks' VAEGAN image discriminator (their Discriminator) at 32x32: spectrally normalised convolutions 4x4
// stride 2, channels -> w (16x16) -> 2w (8x8) -> 4w (4x4) -> 1 (2x2), LeakyReLU(0.02) between them, then a
// spectrally normalised linear 4 -> 1 logit, as the reference's last two layers. The reference (64x64) halves
// once more (8w) and has a self-attention layer after 4w; both are left out. No batch statistics: every sample
// is scored on its own.
class PixelVaeganDiscriminatorImpl : public DiscriminatorBase {
 public:
  explicit PixelVaeganDiscriminatorImpl(const VaeOptions& options);
  at::Tensor forward(const at::Tensor& x) override;  // (B, channels, 32, 32) -> (B) logits

 private:
  torch::nn::Sequential features_{nullptr};  // image -> (B, 4): the 2x2 map of the last convolution
  SpectralNormLinear head_{nullptr};
};
TORCH_MODULE(PixelVaeganDiscriminator);

// GAN-Leaks' VAEGAN latent discriminator (their DiscriminatorL): z -> 750 -> 750 -> 1 logit, LeakyReLU(0.01),
// higher = judged a prior draw N(0, I) rather than an encoded training record.
class LatentDiscriminatorImpl : public torch::nn::Module {
 public:
  static constexpr int kHidden = 750;  // the reference's width, whatever z_dim
  explicit LatentDiscriminatorImpl(int z_dim);
  at::Tensor forward(const at::Tensor& z);  // (B, z_dim) -> (B) logits

 private:
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(LatentDiscriminator);

// z = mean + exp(log_var / 2) · ε, ε ~ N(0, I) drawn from `gen`: differentiable in the posterior.
at::Tensor reparameterise(const Posterior& posterior, at::Generator& gen);

// KL(q(z|x) ‖ N(0, I)) per sample, (B): 0.5 Σ (σ² + μ² − 1 − ln σ²).
at::Tensor gaussian_kl(const Posterior& posterior);

// Negative ELBO per sample, (B), for a Gaussian decoder of unit variance up to constants:
// 0.5 Σ (x − x̂)² + KL(q(z|x) ‖ N(0, I)).
at::Tensor vae_sample_loss(const at::Tensor& x, const at::Tensor& reconstruction, const Posterior& posterior);

// Σ |x − x̂| over each sample's values, (B): GAN-Leaks' VAEGAN reconstruction term (weighted 0.005 there,
// train.vaegan_l1 here). The reference's Best-of-Many-Samples minimum over decoded samples runs over one
// sample, so it is this sum.
at::Tensor l1_reconstruction(const at::Tensor& x, const at::Tensor& reconstruction);

}  // namespace ganleaks::models
