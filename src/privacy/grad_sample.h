#pragma once
// Layers that can record per-sample gradients, for DP-SGD (SPEC §2). LibTorch's C++ frontend has no module
// hooks, so these are layers of their own: with capture off they are the plain LibTorch layer (same
// parameters, same initialisation, same result); with capture on, their forward goes through a custom
// autograd function whose backward also writes each sample's weight and bias gradient, (B, *param.shape),
// into the layer, as Opacus's grad samplers do for nn.Conv2d and nn.Linear.
//
// A DP-trained module must consist of these layers only (plus parameter-free ones): dp_sgd.h refuses one
// whose trainable parameters are not all covered. Norm layers that mix samples (BatchNorm) cannot be.
#include <torch/nn/module.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace ganleaks::privacy {

// What every per-sample layer offers to the DP-SGD step.
class PerSampleLayer {
 public:
  virtual ~PerSampleLayer() = default;
  void set_capture(bool on) { capture_ = on; }
  bool capturing() const { return capture_; }

  // (parameter, its per-sample gradients) for every trainable parameter; the gradients are undefined before
  // a captured backward. Several captured backwards add up.
  virtual std::vector<std::pair<torch::Tensor, torch::Tensor>> grad_samples() = 0;
  void clear_grad_samples() {
    weight_sample_ = torch::Tensor();
    bias_sample_ = torch::Tensor();
  }

  // Called by the autograd functions' backward.
  void add_grad_samples(const torch::Tensor& weight, const torch::Tensor& bias);

 protected:
  bool capture_ = false;
  torch::Tensor weight_sample_, bias_sample_;
};

// nn::Conv2d with per-sample gradients (groups = 1, zero padding).
class PerSampleConv2dImpl : public torch::nn::Module, public PerSampleLayer {
 public:
  explicit PerSampleConv2dImpl(torch::nn::Conv2dOptions options);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> grad_samples() override;

  torch::nn::Conv2dOptions options;
  torch::Tensor weight, bias;  // bias undefined when options.bias() is false
};
TORCH_MODULE(PerSampleConv2d);

// nn::Linear with per-sample gradients; inputs (B, in) or (B, ..., in).
class PerSampleLinearImpl : public torch::nn::Module, public PerSampleLayer {
 public:
  explicit PerSampleLinearImpl(torch::nn::LinearOptions options);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> grad_samples() override;

  torch::nn::LinearOptions options;
  torch::Tensor weight, bias;
};
TORCH_MODULE(PerSampleLinear);

// Every per-sample layer inside `module` (itself included).
std::vector<PerSampleLayer*> per_sample_layers(torch::nn::Module& module);

}  // namespace ganleaks::privacy
