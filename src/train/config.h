#pragma once
// [train]: how every model of a job is trained (train/trainer.h).
#include <cstdint>

#include "core/config.h"

namespace ganleaks {

struct TrainConfig {
  static constexpr std::string_view kSection = "train";
  std::int64_t iterations = 2000;
  int batch_size = 64;
  double lr_g = 2e-4, lr_d = 2e-4, beta1 = 0.5, beta2 = 0.999;
  std::int64_t checkpoint_every = 500;
  int critic_steps = 1;
  double gp_lambda = 10.0;
  std::int64_t pretrain_iterations = 500;
  double vaegan_gamma = 1.0;

  void visit(KeyVisitor& v) {
    v.integer("iterations", iterations, {1, 1'000'000'000}, "generator steps");
    v.integer("batch_size", batch_size, {1, 65536}, "records per training batch");
    v.real("lr_g", lr_g, kLearningRate, "Adam learning rate of the generator");
    v.real("lr_d", lr_d, kLearningRate, "Adam learning rate of the discriminator");
    v.real("beta1", beta1, kAdamBeta, "Adam beta1");
    v.real("beta2", beta2, kAdamBeta, "Adam beta2");
    v.integer("checkpoint_every", checkpoint_every, {1, 1'000'000'000}, "generator steps between checkpoints");
    v.integer("critic_steps", critic_steps, {1, 100},
              "discriminator (critic) updates per generator update (WGAN-GP's paper: 5); each is a DP step under DP-SGD");
    v.real("gp_lambda", gp_lambda, kRegulariser, "`wgan-gp`, `pggan`: weight λ of the gradient penalty");
    v.integer("pretrain_iterations", pretrain_iterations, {0, 1'000'000'000},
              "`medgan`: autoencoder steps before the GAN's `iterations`");
    v.real("vaegan_gamma", vaegan_gamma, kRegulariser,
           "`vaegan-larsen`: weight γ of the feature-wise reconstruction in the decoder's loss");
  }
  bool operator==(const TrainConfig&) const = default;
};

}  // namespace ganleaks
