#pragma once
// The noise-prediction network of the DDPM victim (issue #21; Ho et al. 2020, their appendix B, at Fashion-MNIST's
// 32 × 32): a U-Net of residual blocks with GroupNorm and SiLU, the timestep's sinusoidal embedding added in every
// block, optional single-head self-attention at the lowest resolution, skips concatenated on the way up. GroupNorm
// normalises each sample on its own, so a sample's output does not depend on the rest of its batch (the attacks
// score single queries; DP-SGD's per-sample gradients need it).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace ganleaks::models {

struct UnetOptions {
  int channels = 1;                       // of the images
  int width = 32;                         // channels at full resolution
  std::vector<int> multipliers{1, 2, 2};  // per resolution 32, 16, 8: width × multiplier channels
  int blocks = 1;                         // residual blocks per resolution on the way down (one more up)
  bool attention = false;                 // self-attention in the middle, at the lowest resolution
  int groups = 8;                         // GroupNorm groups (divides every channel count)
};

// Timesteps t (B), integers as any dtype, to (B, dim) features: [sin(t f_0) .. sin(t f_{h−1}), cos(t f_0) ..
// cos(t f_{h−1})], h = dim/2, f_i = 10000^(−i/(h − 1)) (Ho et al.'s get_timestep_embedding). dim even, at least 4.
at::Tensor timestep_embedding(const at::Tensor& t, int dim);

class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int in, int out, int embedding, int groups);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& embedding);  // embedding: SiLU already applied

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, skip_{nullptr};  // skip: 1 × 1 when channels change
  torch::nn::Linear time_{nullptr};
};
TORCH_MODULE(ResidualBlock);

class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int channels, int groups);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv2d qkv_{nullptr}, out_{nullptr};
};
TORCH_MODULE(SelfAttention);

class UnetImpl : public torch::nn::Module {
 public:
  explicit UnetImpl(const UnetOptions& options);
  // x_t (B, channels, 32, 32) and t (B) → the predicted noise ε_θ(x_t, t), (B, channels, 32, 32).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& t);
  const UnetOptions& options() const { return options_; }

 private:
  UnetOptions options_;
  int embedding_dim_;
  torch::nn::Linear time1_{nullptr}, time2_{nullptr};
  torch::nn::Conv2d in_{nullptr}, out_{nullptr};
  torch::nn::ModuleList down_{nullptr}, up_{nullptr};  // ResidualBlock, or Conv2d to change resolution
  std::vector<bool> down_resamples_, up_resamples_;     // which entries change resolution
  ResidualBlock middle1_{nullptr}, middle2_{nullptr};
  SelfAttention attention_{nullptr};
  torch::nn::GroupNorm out_norm_{nullptr};
};
TORCH_MODULE(Unet);

}  // namespace ganleaks::models
