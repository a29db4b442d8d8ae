#pragma once
// Spectral normalisation (Miyato, Kataoka, Koyama, Yoshida 2018, "Spectral Normalization for Generative
// Adversarial Networks", Algorithm 1): the layer uses W / σ(W), σ(W) the largest singular value of W reshaped
// to (out, in·kh·kw), estimated by power iteration with vectors u (out) and v (in·kh·kw) kept across steps.
//
// In training mode every forward first runs `power_iterations` steps (no gradient), v ← normalize(Wᵀu),
// u ← normalize(Wv), then divides by σ = uᵀWv computed with gradient through W (the paper's gradient, which
// includes the term through σ). In eval mode u and v are left as they are. Parameters: weight_orig, bias;
// buffers: u, v (N(0, 1), normalised, then 15 power-iteration steps at construction).
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace ganleaks::models {

// The power-iteration state and normalisation shared by the convolution and linear layers.
class SpectralNormBase : public torch::nn::Module {
 public:
  // W / (uᵀWv) with the current u, v (no iteration), differentiable in weight_orig.
  torch::Tensor normalised_weight() const;
  // uᵀWv with the current u, v, without gradient: σ(W) once the iteration has converged.
  double sigma_estimate() const;
  // `steps` power-iteration steps on u, v (no gradient), whatever the mode.
  void power_iterate(int steps);

  torch::Tensor weight_orig, bias, u, v;

 protected:
  // weight_orig of the given shape (dim 0 = outputs), LibTorch's default initialisation for that layer.
  SpectralNormBase(at::IntArrayRef weight_shape, bool with_bias, int power_iterations);
  // The weight to use in forward: iterates first in training mode.
  torch::Tensor forward_weight();

 private:
  torch::Tensor matrix() const;  // weight_orig as (out, in·kh·kw)
  int power_iterations_;
};

class SpectralNormConv2dImpl : public SpectralNormBase {
 public:
  SpectralNormConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1,
                         std::int64_t padding = 0, bool bias = true, int power_iterations = 1);
  torch::Tensor forward(const torch::Tensor& x);  // (B, in, H, W) -> (B, out, H', W')

 private:
  std::int64_t in_, stride_, padding_;
};
TORCH_MODULE(SpectralNormConv2d);

class SpectralNormLinearImpl : public SpectralNormBase {
 public:
  SpectralNormLinearImpl(std::int64_t in, std::int64_t out, bool bias = true, int power_iterations = 1);
  torch::Tensor forward(const torch::Tensor& x);  // (B, in) -> (B, out)

 private:
  std::int64_t in_;
};
TORCH_MODULE(SpectralNormLinear);

}  // namespace ganleaks::models
