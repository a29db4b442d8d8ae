#include "models/spectral_norm.h"

#include <torch/torch.h>

#include <cmath>

namespace ganleaks::models {
namespace F = torch::nn::functional;

namespace {
torch::Tensor normalize(const torch::Tensor& x) { return F::normalize(x, F::NormalizeFuncOptions().dim(0).eps(1e-12)); }
}  // namespace

SpectralNormBase::SpectralNormBase(at::IntArrayRef weight_shape, bool with_bias, int power_iterations)
    : power_iterations_(power_iterations) {
  TORCH_CHECK(power_iterations >= 0, "SpectralNorm: power_iterations must be >= 0, got ", power_iterations);
  const std::int64_t out = weight_shape[0];
  const std::int64_t fan_in = c10::multiply_integers(weight_shape.slice(1));
  // LibTorch's Conv2d / Linear defaults, so that only the normalisation differs from the plain layers.
  weight_orig = register_parameter("weight_orig", torch::empty(weight_shape));
  torch::nn::init::kaiming_uniform_(weight_orig, std::sqrt(5.0));
  if (with_bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    bias = register_parameter("bias", torch::empty({out}).uniform_(-bound, bound));
  }
  u = register_buffer("u", normalize(torch::randn({out})));
  v = register_buffer("v", normalize(torch::randn({fan_in})));
  // Random u, v give a meaningless σ (near 0, of either sign): a module scored in eval mode before any
  // training step would divide by it. A few steps up front, as torch.nn.utils.parametrizations.spectral_norm.
  power_iterate(15);
}

torch::Tensor SpectralNormBase::matrix() const { return weight_orig.view({weight_orig.size(0), -1}); }

void SpectralNormBase::power_iterate(int steps) {
  torch::NoGradGuard no_grad;
  const auto w = matrix();
  for (int i = 0; i < steps; ++i) {
    v.copy_(normalize(torch::mv(w.t(), u)));
    u.copy_(normalize(torch::mv(w, v)));
  }
}

torch::Tensor SpectralNormBase::normalised_weight() const {
  // Clones: a later training forward updates u, v in place while this graph may still await its backward
  // (e.g. D(real) and D(fake) summed into one loss).
  const auto sigma = torch::dot(u.clone(), torch::mv(matrix(), v.clone()));
  return weight_orig / sigma;
}

double SpectralNormBase::sigma_estimate() const {
  torch::NoGradGuard no_grad;
  return torch::dot(u, torch::mv(matrix(), v)).item<double>();
}

torch::Tensor SpectralNormBase::forward_weight() {
  if (is_training()) power_iterate(power_iterations_);
  return normalised_weight();
}

SpectralNormConv2dImpl::SpectralNormConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel,
                                               std::int64_t stride, std::int64_t padding, bool bias,
                                               int power_iterations)
    : SpectralNormBase({out, in, kernel, kernel}, bias, power_iterations), in_(in), stride_(stride), padding_(padding) {}

torch::Tensor SpectralNormConv2dImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == in_, "SpectralNormConv2d: expected input of shape (B, ", in_,
              ", H, W), got ", x.sizes());
  return F::conv2d(x, forward_weight(), F::Conv2dFuncOptions().bias(bias).stride(stride_).padding(padding_));
}

SpectralNormLinearImpl::SpectralNormLinearImpl(std::int64_t in, std::int64_t out, bool bias, int power_iterations)
    : SpectralNormBase({out, in}, bias, power_iterations), in_(in) {}

torch::Tensor SpectralNormLinearImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == in_, "SpectralNormLinear: expected input of shape (B, ", in_, "), got ",
              x.sizes());
  return F::linear(x, forward_weight(), bias);
}

}  // namespace ganleaks::models
