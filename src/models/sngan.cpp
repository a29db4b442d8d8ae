#include "models/sngan.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

#include "models/batch_norm.h"

namespace ganleaks::models {
namespace nn = torch::nn;

namespace {
// Bias-free: the BatchNorm that follows has its own.
nn::ConvTranspose2d up(int in, int out) {
  return nn::ConvTranspose2d(nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1).bias(false));
}
// 3x3 s1 keeps the size, 4x4 s2 halves it.
SpectralNormConv2d sn_conv(int in, int out, int kernel) {
  return SpectralNormConv2d(in, out, kernel, kernel == 4 ? 2 : 1, 1);
}
nn::LeakyReLU leaky() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.1)); }
}  // namespace

SnganGeneratorImpl::SnganGeneratorImpl(const SnganOptions& options) : options_(options) {
  TORCH_CHECK(options.z_dim > 0 && options.width > 0 && options.channels > 0,
              "SnganGenerator: z_dim, width and channels must be positive");
  const int w = options.width;
  project_ = register_module("project", nn::Linear(nn::LinearOptions(options.z_dim, 8 * w * 16).bias(false)));
  net_ = register_module(
      "net", nn::Sequential(BatchNorm2d(8 * w), nn::ReLU(),                            // 4x4
                            up(8 * w, 4 * w), BatchNorm2d(4 * w), nn::ReLU(),          // 8x8
                            up(4 * w, 2 * w), BatchNorm2d(2 * w), nn::ReLU(),          // 16x16
                            up(2 * w, w), BatchNorm2d(w), nn::ReLU(),                  // 32x32
                            nn::Conv2d(nn::Conv2dOptions(w, options.channels, 3).padding(1)), nn::Tanh()));
}

at::Tensor SnganGeneratorImpl::forward(const at::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options_.z_dim, "SnganGenerator: expected z of shape (B, ",
              options_.z_dim, "), got ", z.sizes());
  return net_->forward(project_->forward(z).view({z.size(0), 8 * options_.width, 4, 4}));
}

SnganDiscriminatorImpl::SnganDiscriminatorImpl(const SnganOptions& options) : options_(options) {
  TORCH_CHECK(options.width > 0 && options.channels > 0, "SnganDiscriminator: width and channels must be positive");
  const int w = options.width;
  features_ = register_module(
      "features", nn::Sequential(sn_conv(options.channels, w, 3), leaky(), sn_conv(w, w, 4), leaky(),  // 16x16
                                 sn_conv(w, 2 * w, 3), leaky(), sn_conv(2 * w, 2 * w, 4), leaky(),      // 8x8
                                 sn_conv(2 * w, 4 * w, 3), leaky(), sn_conv(4 * w, 4 * w, 4), leaky(),  // 4x4
                                 sn_conv(4 * w, 8 * w, 3), leaky()));
  head_ = register_module("head", SpectralNormLinear(8 * w * 16, 1));
}

at::Tensor SnganDiscriminatorImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.channels && x.size(2) == 32 && x.size(3) == 32,
              "SnganDiscriminator: expected images of shape (B, ", options_.channels, ", 32, 32), got ", x.sizes());
  return head_->forward(features_->forward(x).flatten(1)).view({x.size(0)});
}

}  // namespace ganleaks::models
