#pragma once
// VAE (Kingma & Welling 2014, "Auto-Encoding Variational Bayes") and VAEGAN (Larsen et al. 2016,
// "Autoencoding beyond pixels using a learned similarity metric") for 32x32 images in [-1, 1], scaled by a
// base width w, on DCGAN-shaped networks.
//
// Encoder: 32x32 -> 16x16 (w) -> 8x8 (2w) -> 4x4 (4w), BatchNorm + LeakyReLU(0.2), then two linear heads
// giving the Gaussian posterior q(z|x) = N(mean, diag(exp(log_var))).
// Decoder: the DCGAN generator itself (models/dcgan.h, DcganGenerator), z -> 32x32, tanh output; it is
// the model's generator.
// VAEGAN discriminator: 32x32 -> 16x16 (w) -> 8x8 (2w) -> 4x4 (4w), LeakyReLU(0.2), no normalisation (every
// sample scored on its own), then one linear logit. The 4x4 activations are Larsen et al.'s Dis_l, the
// space in which VAEGAN measures reconstructions.
#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/dcgan.h"
#include "models/networks.h"
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

// z = mean + exp(log_var / 2) · ε, ε ~ N(0, I) drawn from `gen`: differentiable in the posterior.
at::Tensor reparameterise(const Posterior& posterior, at::Generator& gen);

// KL(q(z|x) ‖ N(0, I)) per sample, (B): 0.5 Σ (σ² + μ² − 1 − ln σ²).
at::Tensor gaussian_kl(const Posterior& posterior);

// Negative ELBO per sample, (B), for a Gaussian decoder of unit variance up to constants:
// 0.5 Σ (x − x̂)² + KL(q(z|x) ‖ N(0, I)).
at::Tensor vae_sample_loss(const at::Tensor& x, const at::Tensor& reconstruction, const Posterior& posterior);

}  // namespace ganleaks::models
