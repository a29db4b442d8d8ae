#pragma once
// MEDGAN (Choi et al. 2017, "Generating Multi-label Discrete Patient Records using Generative Adversarial
// Networks") for binary records (B, features), after the authors' medgan.py.
//
// Autoencoder: encoder Linear(features -> code_dim) + tanh, decoder Linear(code_dim -> features) + sigmoid,
// pretrained alone on the records (BCE).
// Generator: a code generator G of two residual layers in code space (z_dim = code_dim), followed by the
// autoencoder's decoder, which it shares (the same Linear), so that the decoder pretrained with the
// autoencoder is the one the GAN fine-tunes: it is among the generator's parameters, as in medgan.py.
// Discriminator: minibatch averaging (each record next to the batch mean), then an MLP to one logit.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/batch_norm.h"
#include "models/networks.h"

namespace ganleaks::models {

struct MedganOptions {
  int features = 0;  // record length; required
  int code_dim = 128;
  int z_dim = 128;   // must equal code_dim: the code generator's layers are residual
  int hidden = 256;  // first discriminator layer; the second has hidden / 2
};

class MedganAutoencoderImpl : public torch::nn::Module {
 public:
  explicit MedganAutoencoderImpl(const MedganOptions& options);
  at::Tensor encode(const at::Tensor& x);     // (B, features) -> (B, code_dim) in (-1, 1)
  at::Tensor decode(const at::Tensor& code);  // (B, code_dim) -> (B, features) probabilities
  at::Tensor forward(const at::Tensor& x);    // decode(encode(x))
  // The decoder's Linear, to be shared with MedganGenerator.
  torch::nn::Linear decoder_layer() const { return decoder_; }

 private:
  MedganOptions options_;
  torch::nn::Linear encoder_{nullptr}, decoder_{nullptr};
};
TORCH_MODULE(MedganAutoencoder);

class MedganGeneratorImpl : public GeneratorBase {
 public:
  // `decoder_layer` is the autoencoder's (MedganAutoencoder::decoder_layer()), shared, not copied.
  MedganGeneratorImpl(const MedganOptions& options, torch::nn::Linear decoder_layer);
  at::Tensor forward(const at::Tensor& z) override;  // (B, z_dim) -> (B, features) probabilities
  at::Tensor code_generator(const at::Tensor& z);    // (B, z_dim) -> (B, code_dim): G(z) alone
  int z_dim() const override { return options_.z_dim; }

 private:
  // BatchNorm(Linear(input)): a residual layer before its activation and skip connection.
  at::Tensor normalised_linear(const at::Tensor& input, torch::nn::Linear& linear, BatchNorm2d& norm);

  MedganOptions options_;
  torch::nn::Linear linear1_{nullptr}, linear2_{nullptr}, decoder_{nullptr};
  BatchNorm2d norm1_{nullptr}, norm2_{nullptr};
};
TORCH_MODULE(MedganGenerator);

class MedganDiscriminatorImpl : public DiscriminatorBase {
 public:
  explicit MedganDiscriminatorImpl(const MedganOptions& options);
  at::Tensor forward(const at::Tensor& x) override;  // (B, features) -> (B) logits

  // Running average of the batch means seen in training (momentum 0.1, as batch norm's), which stands in
  // for the batch mean in eval mode so that every record is scored on its own.
  at::Tensor running_mean;

 private:
  MedganOptions options_;
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(MedganDiscriminator);

// Probabilities -> records: (p >= 0.5) as 0/1 in p's dtype, as MEDGAN's users binarise its output.
at::Tensor binarise(const at::Tensor& probabilities);

}  // namespace ganleaks::models
