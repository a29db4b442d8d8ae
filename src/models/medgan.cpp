#include "models/medgan.h"

#include <torch/nn/modules/activation.h>

namespace ganleaks::models {
namespace nn = torch::nn;

namespace {
constexpr double kMomentum = 0.1;  // of the discriminator's running batch mean, as batch norm's

void check_records(const at::Tensor& x, int features, const char* module) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == features, module, ": expected records of shape (B, ", features,
              "), got ", x.sizes());
}
}  // namespace

MedganAutoencoderImpl::MedganAutoencoderImpl(const MedganOptions& options) : options_(options) {
  TORCH_CHECK(options.features > 0 && options.code_dim > 0,
              "MedganAutoencoder: features and code_dim must be positive");
  encoder_ = register_module("encoder", nn::Linear(options.features, options.code_dim));
  decoder_ = register_module("decoder", nn::Linear(options.code_dim, options.features));
}

at::Tensor MedganAutoencoderImpl::encode(const at::Tensor& x) {
  check_records(x, options_.features, "MedganAutoencoder");
  return torch::tanh(encoder_->forward(x));
}

at::Tensor MedganAutoencoderImpl::decode(const at::Tensor& code) {
  TORCH_CHECK(code.dim() == 2 && code.size(1) == options_.code_dim, "MedganAutoencoder: expected codes of shape (B, ",
              options_.code_dim, "), got ", code.sizes());
  return torch::sigmoid(decoder_->forward(code));
}

at::Tensor MedganAutoencoderImpl::forward(const at::Tensor& x) { return decode(encode(x)); }

MedganGeneratorImpl::MedganGeneratorImpl(const MedganOptions& options, nn::Linear decoder_layer)
    : options_(options) {
  TORCH_CHECK(options.features > 0 && options.code_dim > 0, "MedganGenerator: features and code_dim must be positive");
  TORCH_CHECK(options.z_dim == options.code_dim, "MedganGenerator: z_dim (", options.z_dim,
              ") must equal code_dim (", options.code_dim, "): its layers are residual in code space");
  TORCH_CHECK(decoder_layer && decoder_layer->options.in_features() == options.code_dim &&
                  decoder_layer->options.out_features() == options.features,
              "MedganGenerator: expected the autoencoder's decoder Linear(", options.code_dim, " -> ",
              options.features, ")");
  const int c = options.code_dim;
  // No bias: the batch norm after each Linear would cancel it.
  linear1_ = register_module("linear1", nn::Linear(nn::LinearOptions(c, c).bias(false)));
  norm1_ = register_module("norm1", BatchNorm2d(c));
  linear2_ = register_module("linear2", nn::Linear(nn::LinearOptions(c, c).bias(false)));
  norm2_ = register_module("norm2", BatchNorm2d(c));
  decoder_ = register_module("decoder", std::move(decoder_layer));
}

at::Tensor MedganGeneratorImpl::normalised_linear(const at::Tensor& input, nn::Linear& linear, BatchNorm2d& norm) {
  // BatchNorm2d on (B, C, 1, 1) is batch norm 1-d; this one also synchronises over a data-parallel group.
  const auto c = input.size(1);
  return norm->forward(linear->forward(input).view({-1, c, 1, 1})).view({-1, c});
}

at::Tensor MedganGeneratorImpl::code_generator(const at::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options_.z_dim, "MedganGenerator: expected z of shape (B, ", options_.z_dim,
              "), got ", z.sizes());
  // medgan.py: ReLU in the hidden layer, tanh in the last for binary data, each added to its input.
  const auto h = z + torch::relu(normalised_linear(z, linear1_, norm1_));
  return h + torch::tanh(normalised_linear(h, linear2_, norm2_));
}

at::Tensor MedganGeneratorImpl::forward(const at::Tensor& z) {
  return torch::sigmoid(decoder_->forward(code_generator(z)));
}

MedganDiscriminatorImpl::MedganDiscriminatorImpl(const MedganOptions& options) : options_(options) {
  TORCH_CHECK(options.features > 0 && options.hidden >= 2,
              "MedganDiscriminator: features must be positive and hidden at least 2");
  running_mean = register_buffer("running_mean", torch::zeros({options.features}));
  const int h = options.hidden;
  net_ = register_module("net", nn::Sequential(nn::Linear(2 * options.features, h), nn::ReLU(),
                                               nn::Linear(h, h / 2), nn::ReLU(), nn::Linear(h / 2, 1)));
}

at::Tensor MedganDiscriminatorImpl::forward(const at::Tensor& x) {
  check_records(x, options_.features, "MedganDiscriminator");
  at::Tensor mean;
  if (is_training()) {
    mean = x.mean(0);  // in the graph, as in medgan.py: the gradient flows through the batch mean too
    torch::NoGradGuard no_grad;
    running_mean.mul_(1 - kMomentum).add_(mean.detach() * kMomentum);
  } else {
    mean = running_mean;
  }
  return net_->forward(torch::cat({x, mean.expand_as(x)}, 1)).view({x.size(0)});
}

at::Tensor binarise(const at::Tensor& probabilities) {
  TORCH_CHECK(probabilities.is_floating_point(), "binarise: expected floating-point probabilities, got ",
              probabilities.scalar_type());
  return (probabilities >= 0.5).to(probabilities.scalar_type());
}

}  // namespace ganleaks::models
