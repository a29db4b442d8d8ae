#pragma once
// The two roles every model family fills, so that training loops and attacks work on any model of the zoo
// (docs/models.md) without model-specific code: a generator from latents and a discriminator that scores
// samples. Families derive their LibTorch modules from these; models/zoo.h builds them by name.
#include <torch/nn/module.h>

namespace ganleaks::models {

// Latents (B, z_dim) -> samples: images (B, C, 32, 32) in [-1, 1] or records (B, features).
// For VAE/VAEGAN this is the decoder, for MEDGAN the decoder applied to the code generator's output.
class GeneratorBase : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& z) = 0;
  virtual int z_dim() const = 0;
  // Where its weights are (latents must be moved there).
  at::Device device() const { return parameters().front().device(); }
  // Models that change with training (PGGAN's progressive growing) read the share of the run done, in
  // [0, 1]; the trainer calls it before every iteration and with 1 before the release. Others ignore it.
  virtual void set_progress(double /*fraction*/) {}
};

// Samples -> (B) logits, higher = judged real. Every sample is scored on its own in eval mode (the `dis`
// attack reads single queries), whatever batch statistics the model uses in training.
class DiscriminatorBase : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  virtual void set_progress(double /*fraction*/) {}
};

}  // namespace ganleaks::models
