#pragma once
// Layers that can record per-sample gradients, for DP-SGD (SPEC §2). LibTorch's C++ frontend has no module
// hooks, so these are layers of their own: with capture off they are the plain LibTorch layer (same
// parameters, same initialisation, same result); with capture on, their forward goes through a custom
// autograd function whose backward also keeps, in the layer, what DP-SGD needs of each sample's weight and bias
// gradient: the gradients themselves, (B, *param.shape), as Opacus's grad samplers do for nn.Conv2d and
// nn.Linear, or only their norms and what gives the clipped sum (book-keeping and ghost clipping; Clipping in
// clipping.h).
//
// A DP-trained module must consist of these layers only (plus parameter-free ones): dp_sgd.h refuses one
// whose trainable parameters are not all covered. Norm layers that mix samples (BatchNorm) cannot be.
#include <torch/nn/module.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "privacy/clipping.h"

namespace ganleaks::privacy {

// What every per-sample layer offers to the DP-SGD step.
class PerSampleLayer {
 public:
  virtual ~PerSampleLayer() = default;
  void set_capture(bool on, Clipping clipping = Clipping::kMaterialise) {
    capture_ = on;
    clipping_ = clipping;
  }
  bool capturing() const { return capture_; }
  Clipping clipping() const { return clipping_; }

  // The layer's trainable parameters: weight, then bias if it has one.
  virtual std::vector<torch::Tensor> per_sample_parameters() const = 0;
  // (parameter, its per-sample gradients) for every parameter; the gradients are defined after a captured
  // backward that kept them (always under kMaterialise; under kBookKeeping where the ghost norm is not the
  // cheaper; never under kGhost).
  std::vector<std::pair<torch::Tensor, torch::Tensor>> grad_samples() const;
  // After a captured backward (either mode): whether one ran, each sample's squared gradient norm over this
  // layer's parameters (float64, (B,)), and Σ_i factor_i · (sample i's gradient) per parameter (factor: (B,)).
  bool captured() const { return weight_sample_.defined() || squared_norms_.defined(); }
  torch::Tensor squared_norms() const;
  std::vector<torch::Tensor> clipped_sums(const torch::Tensor& factor) const;
  void clear_grad_samples();

  // Called by the autograd functions' backward: the first where the layer keeps its rows' gradients, the
  // second where it keeps only their squared norms (the ghost norm, or materialised a block at a time).
  void add_grad_samples(const torch::Tensor& weight, const torch::Tensor& bias);
  void keep_norms(const torch::Tensor& input, const torch::Tensor& grad_output, const torch::Tensor& squared_norms);

 protected:
  // The clipped sums of a layer that kept only norms: the parameters' gradients for this input and (scaled)
  // output gradient.
  virtual std::vector<torch::Tensor> parameter_gradients(const torch::Tensor& input,
                                                         const torch::Tensor& grad_output) const = 0;

  bool capture_ = false;
  Clipping clipping_ = Clipping::kMaterialise;
  torch::Tensor weight_sample_, bias_sample_;          // materialised
  torch::Tensor input_, grad_output_, squared_norms_;  // norms only (keep_norms)
};

// nn::Conv2d with per-sample gradients (groups = 1, zero padding).
class PerSampleConv2dImpl : public torch::nn::Module, public PerSampleLayer {
 public:
  explicit PerSampleConv2dImpl(torch::nn::Conv2dOptions options);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<torch::Tensor> per_sample_parameters() const override;

  torch::nn::Conv2dOptions options;
  torch::Tensor weight, bias;  // bias undefined when options.bias() is false

 protected:
  std::vector<torch::Tensor> parameter_gradients(const torch::Tensor& input, const torch::Tensor& grad_output) const override;
};
TORCH_MODULE(PerSampleConv2d);

// nn::Linear with per-sample gradients; inputs (B, in) or (B, ..., in).
class PerSampleLinearImpl : public torch::nn::Module, public PerSampleLayer {
 public:
  explicit PerSampleLinearImpl(torch::nn::LinearOptions options);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<torch::Tensor> per_sample_parameters() const override;

  torch::nn::LinearOptions options;
  torch::Tensor weight, bias;

 protected:
  std::vector<torch::Tensor> parameter_gradients(const torch::Tensor& input, const torch::Tensor& grad_output) const override;
};
TORCH_MODULE(PerSampleLinear);

// Every per-sample layer inside `module` (itself included).
std::vector<PerSampleLayer*> per_sample_layers(torch::nn::Module& module);

}  // namespace ganleaks::privacy
