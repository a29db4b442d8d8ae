#include "models/vae.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

#include "models/batch_norm.h"

namespace ganleaks::models {
namespace nn = torch::nn;

namespace {
// A 4x4 stride-2 convolution halves the side: 32 -> 16 -> 8 -> 4.
nn::Conv2d halve(int in, int out) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(2).padding(1).bias(false));  // BatchNorm follows
}
// Per-sample capable (DP-SGD); identical to nn::Conv2d while capture is off.
privacy::PerSampleConv2d halve_per_sample(int in, int out) {
  return privacy::PerSampleConv2d(nn::Conv2dOptions(in, out, 4).stride(2).padding(1));
}
nn::LeakyReLU leaky() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); }

void check_options(const VaeOptions& options, const char* module) {
  TORCH_CHECK(options.z_dim > 0 && options.width > 0 && options.channels > 0, module,
              ": z_dim, width and channels must be positive");
}
void check_images(const at::Tensor& x, int channels, const char* module) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == channels && x.size(2) == 32 && x.size(3) == 32, module,
              ": expected images of shape (B, ", channels, ", 32, 32), got ", x.sizes());
}
void check_posterior(const Posterior& posterior, const char* function) {
  TORCH_CHECK(posterior.mean.dim() == 2 && posterior.mean.sizes() == posterior.log_var.sizes(), function,
              ": expected mean and log_var of the same shape (B, z_dim), got ", posterior.mean.sizes(), " and ",
              posterior.log_var.sizes());
}
}  // namespace

ConvEncoderImpl::ConvEncoderImpl(const VaeOptions& options) : options_(options) {
  check_options(options, "ConvEncoder");
  const int w = options.width;
  net_ = register_module("net", nn::Sequential(halve(options.channels, w), BatchNorm2d(w), leaky(),  // 16x16
                                               halve(w, 2 * w), BatchNorm2d(2 * w), leaky(),         // 8x8
                                               halve(2 * w, 4 * w), BatchNorm2d(4 * w), leaky(),     // 4x4
                                               nn::Flatten()));
  mean_ = register_module("mean", nn::Linear(4 * w * 4 * 4, options.z_dim));
  log_var_ = register_module("log_var", nn::Linear(4 * w * 4 * 4, options.z_dim));
}

Posterior ConvEncoderImpl::forward(const at::Tensor& x) {
  check_images(x, options_.channels, "ConvEncoder");
  const auto h = net_->forward(x);
  return {mean_->forward(h), log_var_->forward(h)};
}

VaeganDiscriminatorImpl::VaeganDiscriminatorImpl(const VaeOptions& options) {
  TORCH_CHECK(options.width > 0 && options.channels > 0, "VaeganDiscriminator: width and channels must be positive");
  const int w = options.width;
  net_ = register_module("net", nn::Sequential(halve_per_sample(options.channels, w), leaky(),  // 16x16
                                               halve_per_sample(w, 2 * w), leaky(),             // 8x8
                                               halve_per_sample(2 * w, 4 * w), leaky(),         // 4x4
                                               nn::Flatten()));
  logit_ = register_module("logit", privacy::PerSampleLinear(nn::LinearOptions(4 * w * 4 * 4, 1)));
}

at::Tensor VaeganDiscriminatorImpl::features(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(2) == 32 && x.size(3) == 32,
              "VaeganDiscriminator: expected images of shape (B, C, 32, 32), got ", x.sizes());
  return net_->forward(x);
}

at::Tensor VaeganDiscriminatorImpl::forward(const at::Tensor& x) {
  return logit_->forward(features(x)).view({x.size(0)});
}

PixelVaeganDiscriminatorImpl::PixelVaeganDiscriminatorImpl(const VaeOptions& options) {
  TORCH_CHECK(options.width > 0 && options.channels > 0,
              "PixelVaeganDiscriminator: width and channels must be positive");
  const int w = options.width;
  const auto halve = [](int in, int out) { return SpectralNormConv2d(in, out, 4, 2, 1); };
  const auto leaky = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.02)); };
  features_ = register_module("features", nn::Sequential(halve(options.channels, w), leaky(),  // 16x16
                                                         halve(w, 2 * w), leaky(),             // 8x8
                                                         halve(2 * w, 4 * w), leaky(),         // 4x4
                                                         halve(4 * w, 1),                      // 2x2
                                                         nn::Flatten()));
  head_ = register_module("head", SpectralNormLinear(4, 1));
}

at::Tensor PixelVaeganDiscriminatorImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(2) == 32 && x.size(3) == 32,
              "PixelVaeganDiscriminator: expected images of shape (B, C, 32, 32), got ", x.sizes());
  return head_->forward(features_->forward(x)).view({x.size(0)});
}

LatentDiscriminatorImpl::LatentDiscriminatorImpl(int z_dim) {
  TORCH_CHECK(z_dim > 0, "LatentDiscriminator: z_dim must be positive");
  const auto leaky_001 = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.01)); };
  net_ = register_module("net", nn::Sequential(nn::Linear(z_dim, kHidden), leaky_001(), nn::Linear(kHidden, kHidden),
                                               leaky_001(), nn::Linear(kHidden, 1)));
}

at::Tensor LatentDiscriminatorImpl::forward(const at::Tensor& z) {
  TORCH_CHECK(z.dim() == 2, "LatentDiscriminator: expected latents of shape (B, z_dim), got ", z.sizes());
  return net_->forward(z).view({z.size(0)});
}

at::Tensor reparameterise(const Posterior& posterior, at::Generator& gen) {
  check_posterior(posterior, "reparameterise");
  // The generator is a CPU stream: drawn there, then moved (the same ε on every device).
  const auto eps = at::randn(posterior.mean.sizes(), gen, posterior.mean.options().device(at::kCPU)).to(posterior.mean.device());
  return posterior.mean + (0.5 * posterior.log_var).exp() * eps;
}

at::Tensor gaussian_kl(const Posterior& posterior) {
  check_posterior(posterior, "gaussian_kl");
  const auto& log_var = posterior.log_var;
  return 0.5 * (log_var.exp() + posterior.mean.pow(2) - 1 - log_var).sum(1);
}

at::Tensor vae_sample_loss(const at::Tensor& x, const at::Tensor& reconstruction, const Posterior& posterior) {
  TORCH_CHECK(x.dim() >= 2 && x.sizes() == reconstruction.sizes(),
              "vae_sample_loss: expected x and reconstruction of the same shape (B, ...), got ", x.sizes(), " and ",
              reconstruction.sizes());
  TORCH_CHECK(posterior.mean.dim() >= 1 && posterior.mean.size(0) == x.size(0),
              "vae_sample_loss: expected a posterior for each of the ", x.size(0), " samples, got mean of shape ",
              posterior.mean.sizes());
  return 0.5 * (x - reconstruction).pow(2).flatten(1).sum(1) + gaussian_kl(posterior);
}

at::Tensor l1_reconstruction(const at::Tensor& x, const at::Tensor& reconstruction) {
  TORCH_CHECK(x.dim() >= 2 && x.sizes() == reconstruction.sizes(),
              "l1_reconstruction: expected x and reconstruction of the same shape (B, ...), got ", x.sizes(), " and ",
              reconstruction.sizes());
  return (x - reconstruction).abs().flatten(1).sum(1);
}

}  // namespace ganleaks::models
