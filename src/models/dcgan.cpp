#include "models/dcgan.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

#include "models/batch_norm.h"
#include "privacy/grad_sample.h"

namespace ganleaks::models {
namespace nn = torch::nn;

namespace {
nn::ConvTranspose2d up(int in, int out, int kernel, int stride, int padding) {
  return nn::ConvTranspose2d(nn::ConvTranspose2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}
// Per-sample capable (DP-SGD); identical to nn::Conv2d while capture is off.
privacy::PerSampleConv2d down(int in, int out, int kernel, int stride, int padding, bool bias) {
  return privacy::PerSampleConv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias));
}
nn::LeakyReLU leaky() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); }
}  // namespace

DcganGeneratorImpl::DcganGeneratorImpl(const DcganOptions& options) : options_(options) {
  TORCH_CHECK(options.z_dim > 0 && options.width > 0 && options.channels > 0,
              "DcganGenerator: z_dim, width and channels must be positive");
  const int w = options.width;
  net_ = register_module(
      "net", nn::Sequential(up(options.z_dim, 4 * w, 4, 1, 0), BatchNorm2d(4 * w), nn::ReLU(),  // 4x4
                            up(4 * w, 2 * w, 4, 2, 1), BatchNorm2d(2 * w), nn::ReLU(),          // 8x8
                            up(2 * w, w, 4, 2, 1), BatchNorm2d(w), nn::ReLU(),                  // 16x16
                            up(w, options.channels, 4, 2, 1), nn::Tanh()));                        // 32x32
}

at::Tensor DcganGeneratorImpl::forward(const at::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options_.z_dim, "DcganGenerator: expected z of shape (B, ",
              options_.z_dim, "), got ", z.sizes());
  return net_->forward(z.view({z.size(0), options_.z_dim, 1, 1}));
}

DcganDiscriminatorImpl::DcganDiscriminatorImpl(const DcganOptions& options) {
  TORCH_CHECK(options.width > 0 && options.channels > 0, "DcganDiscriminator: width and channels must be positive");
  const int w = options.width;
  net_ = register_module("net", nn::Sequential(down(options.channels, w, 4, 2, 1, true), leaky(),  // 16x16
                                               down(w, 2 * w, 4, 2, 1, true), leaky(),             // 8x8
                                               down(2 * w, 4 * w, 4, 2, 1, true), leaky(),         // 4x4
                                               down(4 * w, 1, 4, 1, 0, true)));                   // 1x1
}

at::Tensor DcganDiscriminatorImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(2) == 32 && x.size(3) == 32,
              "DcganDiscriminator: expected images of shape (B, C, 32, 32), got ", x.sizes());
  return net_->forward(x).view({x.size(0)});
}

void dcgan_init(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/true)) {
    const std::string name = child->name();
    if (name.find("Conv") != std::string::npos) {
      for (auto& p : child->named_parameters(false)) {
        if (p.key() == "weight") nn::init::normal_(p.value(), 0.0, 0.02);
        if (p.key() == "bias") nn::init::zeros_(p.value());
      }
    } else if (name.find("BatchNorm") != std::string::npos) {
      for (auto& p : child->named_parameters(false)) {
        if (p.key() == "weight") nn::init::normal_(p.value(), 1.0, 0.02);
        if (p.key() == "bias") nn::init::zeros_(p.value());
      }
    }
  }
}

}  // namespace ganleaks::models
