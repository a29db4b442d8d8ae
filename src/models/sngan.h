#pragma once
// SNGAN (Miyato, Kataoka, Koyama, Yoshida 2018, "Spectral Normalization for Generative Adversarial
// Networks"): the paper's "standard CNN" for 32x32 images, scaled by a base width w (paper: 64).
//
// Generator: z -> Linear -> (8w, 4, 4) -> ConvT 4x4 s2 -> 4w (8x8) -> 2w (16x16) -> w (32x32), BatchNorm +
// ReLU after each, conv 3x3 -> channels, tanh output in [-1, 1]. Its BatchNorm is models::BatchNorm2d,
// synchronised over a data-parallel group.
// Discriminator: conv 3x3 w, conv 4x4 s2 w, conv 3x3 2w, conv 4x4 s2 2w, conv 3x3 4w, conv 4x4 s2 4w,
// conv 3x3 8w (4x4), linear -> one logit; LeakyReLU(0.1); every layer spectrally normalised
// (models/spectral_norm.h), no batch statistics, so every sample is scored on its own.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/networks.h"
#include "models/spectral_norm.h"

namespace ganleaks::models {

struct SnganOptions {
  int z_dim = 100;
  int width = 32;    // w: channels of the last generator / first discriminator layer
  int channels = 1;  // image channels
};

class SnganGeneratorImpl : public GeneratorBase {
 public:
  explicit SnganGeneratorImpl(const SnganOptions& options);
  at::Tensor forward(const at::Tensor& z) override;  // (B, z_dim) -> (B, channels, 32, 32)
  int z_dim() const override { return options_.z_dim; }

 private:
  SnganOptions options_;
  torch::nn::Linear project_{nullptr};  // z -> 8w·4·4
  torch::nn::Sequential net_{nullptr};  // (8w, 4, 4) -> image
};
TORCH_MODULE(SnganGenerator);

class SnganDiscriminatorImpl : public DiscriminatorBase {
 public:
  explicit SnganDiscriminatorImpl(const SnganOptions& options);
  at::Tensor forward(const at::Tensor& x) override;  // (B, channels, 32, 32) -> (B) logits

 private:
  SnganOptions options_;
  torch::nn::Sequential features_{nullptr};  // image -> (8w, 4, 4)
  SpectralNormLinear head_{nullptr};         // 8w·4·4 -> 1
};
TORCH_MODULE(SnganDiscriminator);

}  // namespace ganleaks::models
