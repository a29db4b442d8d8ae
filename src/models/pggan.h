#pragma once
// PGGAN (Karras, Aila, Laine, Lehtinen 2018, "Progressive Growing of GANs for Improved Quality, Stability,
// and Variation") for 32x32 images: 4 stages at resolutions 4, 8, 16, 32, with c_s = 8w / 2^s channels at
// stage s (w = base width; the paper keeps 512 up to 32x32).
//
// Generator: pixel norm on z, 4x4 block (equalised linear z -> (c_0, 4, 4), conv 3x3), then per doubling a
// block (nearest upsample x2, two conv 3x3); LeakyReLU(0.2) and pixel norm after every conv; a linear 1x1
// toRGB per stage (no tanh: the output is linear, real images lie in [-1, 1]). Whatever the stage, forward
// returns (B, C, 32, 32): the current-resolution image nearest-upsampled, so a discriminator that
// average-pools back to that resolution sees exactly the low-resolution image.
// Discriminator: the mirror image: input average-pooled to the current resolution, fromRGB (1x1 conv) per
// stage, blocks of two conv 3x3 then average-pool x2, and a final 4x4 block: minibatch standard deviation,
// conv 3x3, conv 4x4, linear -> one logit. LeakyReLU(0.2).
// Fade-in at stage s with alpha a (both networks): the new block's path weighted a, the previous stage's
// path (resampled) weighted 1 - a. All layers use the equalised learning rate (their own initialisation:
// do not apply dcgan_init).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cmath>
#include <vector>

#include "models/networks.h"

namespace ganleaks::models {

struct PgganOptions {
  int z_dim = 100;
  int width = 32;    // w: channels at 32x32; c_s = 8w / 2^s at stage s
  int channels = 1;  // image channels
};

inline constexpr int kPgganStages = 4;  // 4x4, 8x8, 16x16, 32x32

// Stage and fade-in weight for a share of the run done. The run is split into `stages` equal phases:
// phase 0 is stage 0 at alpha 1; in phase s >= 1 the first half fades stage s in (alpha 0 -> 1 linearly),
// the second half trains it at alpha 1. fraction >= 1: the last stage at alpha 1.
struct PgganSchedule {
  int stage;
  double alpha;
};
PgganSchedule pggan_schedule(double fraction, int stages = kPgganStages);

// Equalised learning rate (paper §4.1): weights N(0, 1), scaled at run time by gain / sqrt(fan_in) (He),
// biases 0, so that Adam's per-parameter step sizes act alike on every layer.
class EqualizedConv2dImpl : public torch::nn::Module {
 public:
  EqualizedConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t padding,
                      double gain = std::sqrt(2.0));
  torch::Tensor forward(const torch::Tensor& x);  // (B, in, H, W) -> (B, out, H', W')

  torch::Tensor weight, bias;

 private:
  std::int64_t padding_;
  double scale_;
};
TORCH_MODULE(EqualizedConv2d);

class EqualizedLinearImpl : public torch::nn::Module {
 public:
  EqualizedLinearImpl(std::int64_t in, std::int64_t out, double gain = std::sqrt(2.0));
  torch::Tensor forward(const torch::Tensor& x);  // (B, in) -> (B, out)

  torch::Tensor weight, bias;

 private:
  double scale_;
};
TORCH_MODULE(EqualizedLinear);

// x / sqrt(mean over channels of x² + 1e-8), per sample and position (paper §4.2).
class PixelNormImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(PixelNorm);

// Appends one feature map (paper §3): the standard deviation of each feature and position over a group of
// samples, averaged over features and positions. Groups take samples g·M + m (m fixed, M = B / G), G the
// largest divisor of B that is <= group_size. In eval mode every sample must be scored on its own, so the
// map is `running_stat`, a running average (like batch norm's, momentum 0.1) of the batch's mean statistic
// over every training-mode call (real, generated and interpolated batches alike).
class MinibatchStddevImpl : public torch::nn::Module {
 public:
  explicit MinibatchStddevImpl(int group_size = 4, double momentum = 0.1);
  torch::Tensor forward(const torch::Tensor& x);  // (B, C, H, W) -> (B, C + 1, H, W)

  torch::Tensor running_stat;  // scalar buffer, 0 at construction

 private:
  int group_size_;
  double momentum_;
};
TORCH_MODULE(MinibatchStddev);

class PgganGeneratorImpl : public GeneratorBase {
 public:
  explicit PgganGeneratorImpl(const PgganOptions& options);
  at::Tensor forward(const at::Tensor& z) override;  // (B, z_dim) -> (B, channels, 32, 32), any stage
  int z_dim() const override { return options_.z_dim; }
  void set_progress(double fraction) override;  // set_stage(pggan_schedule(fraction))
  // stage in [0, kPgganStages), alpha in [0, 1] (ignored at stage 0, which has nothing to fade from).
  // A new module is at the last stage, alpha 1 (the full network, as after set_progress(1)).
  void set_stage(int stage, double alpha);
  int stage() const { return stage_; }
  double alpha() const { return alpha_; }

  // The sub-networks, for tests: block(0) maps z to (B, c_0, 4, 4), block(s) doubles the resolution;
  // to_rgb(s) maps stage s features to an image at resolution 4·2^s.
  torch::nn::Sequential block(int stage) const;
  EqualizedConv2d to_rgb(int stage) const;

 private:
  PgganOptions options_;
  std::vector<torch::nn::Sequential> blocks_;
  std::vector<EqualizedConv2d> to_rgb_;
  int stage_ = kPgganStages - 1;
  double alpha_ = 1.0;
};
TORCH_MODULE(PgganGenerator);

class PgganDiscriminatorImpl : public DiscriminatorBase {
 public:
  explicit PgganDiscriminatorImpl(const PgganOptions& options);
  at::Tensor forward(const at::Tensor& x) override;  // (B, channels, 32, 32) -> (B) logits, any stage
  void set_progress(double fraction) override;       // set_stage(pggan_schedule(fraction))
  void set_stage(int stage, double alpha);           // as PgganGenerator::set_stage
  int stage() const { return stage_; }
  double alpha() const { return alpha_; }

  // The sub-networks, for tests: from_rgb(s) maps an image at resolution 4·2^s to stage s features;
  // block(s) (s >= 1) halves the resolution to stage s - 1 features; block(0) is the final 4x4 block
  // (minibatch stddev ... linear) giving (B, 1).
  torch::nn::Sequential block(int stage) const;
  torch::nn::Sequential from_rgb(int stage) const;

 private:
  PgganOptions options_;
  std::vector<torch::nn::Sequential> blocks_;
  std::vector<torch::nn::Sequential> from_rgb_;
  int stage_ = kPgganStages - 1;
  double alpha_ = 1.0;
};
TORCH_MODULE(PgganDiscriminator);

}  // namespace ganleaks::models
