#pragma once
// DCGAN (Radford et al. 2016) for 32x32 images, after pytorch/examples cpp/dcgan, scaled by a base width.
//
// Generator: z (B, z_dim) -> ConvT 4x4 -> 8x8 -> 16x16 -> 32x32, BatchNorm + ReLU, tanh output in [-1, 1].
// Discriminator: 32x32 -> 16x16 -> 8x8 -> 4x4 -> one logit, LeakyReLU(0.2) and no normalisation, so that
// it scores every sample on its own (the `dis` attack reads single queries; DP-SGD needs per-sample
// gradients, which BatchNorm would couple). Its convolutions are privacy::PerSampleConv2d, so the same
// discriminator trains with or without DP-SGD.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "models/networks.h"

namespace ganleaks::models {

struct DcganOptions {
  int z_dim = 100;
  int width = 32;     // channels of the last generator / first discriminator layer
  int channels = 1;   // image channels
};

class DcganGeneratorImpl : public GeneratorBase {
 public:
  explicit DcganGeneratorImpl(const DcganOptions& options);
  at::Tensor forward(const at::Tensor& z) override;  // (B, z_dim) -> (B, channels, 32, 32)
  int z_dim() const override { return options_.z_dim; }

 private:
  DcganOptions options_;
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(DcganGenerator);

class DcganDiscriminatorImpl : public DiscriminatorBase {
 public:
  explicit DcganDiscriminatorImpl(const DcganOptions& options);
  at::Tensor forward(const at::Tensor& x) override;  // (B, channels, 32, 32) -> (B) logits

 private:
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(DcganDiscriminator);

// DCGAN initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0.
void dcgan_init(torch::nn::Module& module);

}  // namespace ganleaks::models
