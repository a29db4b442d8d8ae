// VAE / VAEGAN networks: shapes, the KL, negative ELBO and L1 reconstruction against hand arithmetic, the
// reparameterisation's moments, Larsen's VAEGAN discriminator scoring every sample on its own, and GAN-Leaks'
// VAEGAN built with its latent discriminator.
#include "models/vae.h"
#include "models/zoo.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace ganleaks::models {
namespace {

const VaeOptions kSmall{.z_dim = 10, .width = 8, .channels = 1};

TEST(Vae, EncoderGivesAPosteriorPerSample) {
  torch::manual_seed(0);
  ConvEncoder encoder(kSmall);
  const auto posterior = encoder->forward(torch::rand({3, 1, 32, 32}) * 2 - 1);
  EXPECT_EQ(posterior.mean.sizes(), (std::vector<std::int64_t>{3, 10}));
  EXPECT_EQ(posterior.log_var.sizes(), (std::vector<std::int64_t>{3, 10}));
  EXPECT_THROW(encoder->forward(torch::zeros({3, 3, 32, 32})), c10::Error);  // wrong channel count
}

TEST(Vae, DecoderMakesImagesInRange) {
  torch::manual_seed(0);
  DcganGenerator decoder(VaeOptions{.z_dim = 10, .width = 8, .channels = 3});
  EXPECT_EQ(decoder->z_dim(), 10);
  const auto x = decoder->forward(torch::randn({4, 10}) * 10);
  EXPECT_EQ(x.sizes(), (std::vector<std::int64_t>{4, 3, 32, 32}));
  EXPECT_GE(x.min().item<float>(), -1.0F);
  EXPECT_LE(x.max().item<float>(), 1.0F);
  EXPECT_THROW(decoder->forward(torch::zeros({4, 11})), c10::Error);
}

TEST(Vae, DecoderIsAGenerator) {
  std::shared_ptr<GeneratorBase> generator = DcganGenerator(kSmall).ptr();
  EXPECT_EQ(generator->forward(torch::randn({2, 10})).sizes(), (std::vector<std::int64_t>{2, 1, 32, 32}));
}

TEST(Vaegan, LatentDiscriminatorGivesOneLogitPerLatent) {
  torch::manual_seed(0);
  LatentDiscriminator discriminator(10);
  EXPECT_EQ(discriminator->forward(torch::randn({7, 10})).sizes(), (std::vector<std::int64_t>{7}));
  EXPECT_THROW(discriminator->forward(torch::randn({7, 1, 10})), c10::Error);
  std::int64_t parameters = 0;
  for (const auto& p : discriminator->parameters()) parameters += p.numel();
  EXPECT_EQ(parameters, (10 * 750 + 750) + (750 * 750 + 750) + (750 + 1));  // the reference's 750-unit layers
}

TEST(Vaegan, L1ReconstructionSumsAbsoluteDifferencesPerSample) {
  const auto x = torch::tensor({1.0F, -1.0F, 0.5F, 0.0F, 0.25F, -0.5F}).view({2, 3});
  const auto r = torch::tensor({0.0F, -1.0F, 1.0F, 0.5F, 0.25F, 0.5F}).view({2, 3});
  const auto l1 = l1_reconstruction(x, r);
  ASSERT_EQ(l1.sizes(), (std::vector<std::int64_t>{2}));
  EXPECT_FLOAT_EQ(l1[0].item<float>(), 1.0F + 0.0F + 0.5F);
  EXPECT_FLOAT_EQ(l1[1].item<float>(), 0.5F + 0.0F + 1.0F);
  EXPECT_THROW(l1_reconstruction(x, r.view({3, 2})), c10::Error);
}

// `vaegan` is GAN-Leaks' model (latent and image discriminators, searched without the norm penalty);
// `vaegan-larsen` Larsen et al.'s (one discriminator whose features measure reconstructions).
TEST(Vaegan, TheZooBuildsBothVaegans) {
  const std::vector<std::int64_t> shape{1, 32, 32};
  const auto names = [](const Networks& n) {
    std::vector<std::string> out;
    for (const auto& [name, module] : n.modules()) out.push_back(name);
    return out;
  };
  const auto ganleaks = make_networks(ModelConfig{.names = {"vaegan"}, .z_dim = 10, .width = 8}, shape);
  EXPECT_EQ(names(ganleaks), (std::vector<std::string>{"generator", "discriminator", "encoder", "latent_discriminator"}));
  EXPECT_FALSE(ganleaks.info->latent_norm_penalty);
  const auto larsen = make_networks(ModelConfig{.names = {"vaegan-larsen"}, .z_dim = 10, .width = 8}, shape);
  EXPECT_EQ(names(larsen), (std::vector<std::string>{"generator", "discriminator", "encoder"}));
  EXPECT_TRUE(larsen.info->latent_norm_penalty);
  EXPECT_NE(std::dynamic_pointer_cast<VaeganDiscriminatorImpl>(larsen.discriminator), nullptr);
  EXPECT_NE(std::dynamic_pointer_cast<PixelVaeganDiscriminatorImpl>(ganleaks.discriminator), nullptr);
}

TEST(Vaegan, PixelDiscriminatorScoresEverySampleOnItsOwn) {
  torch::manual_seed(0);
  PixelVaeganDiscriminator discriminator(kSmall);
  const auto x = torch::rand({6, 1, 32, 32}) * 2 - 1;
  discriminator->eval();  // training-mode forwards advance the spectral norm's power iteration
  const auto together = discriminator->forward(x);
  ASSERT_EQ(together.sizes(), (std::vector<std::int64_t>{6}));
  EXPECT_TRUE(torch::allclose(together.slice(0, 2, 3), discriminator->forward(x.slice(0, 2, 3)), 1e-5, 1e-6));
  EXPECT_THROW(discriminator->forward(torch::zeros({6, 1, 28, 28})), c10::Error);
}

TEST(Vaegan, DiscriminatorFeaturesAndLogits) {
  torch::manual_seed(0);
  VaeganDiscriminator discriminator(kSmall);
  const auto x = torch::rand({5, 1, 32, 32}) * 2 - 1;
  EXPECT_EQ(discriminator->features(x).sizes(), (std::vector<std::int64_t>{5, 4 * 8 * 4 * 4}));
  EXPECT_EQ(discriminator->forward(x).sizes(), (std::vector<std::int64_t>{5}));
  EXPECT_THROW(discriminator->forward(torch::zeros({5, 1, 28, 28})), c10::Error);
}

TEST(Vaegan, DiscriminatorScoresEverySampleOnItsOwn) {
  torch::manual_seed(0);
  VaeganDiscriminator discriminator(kSmall);
  const auto x = torch::rand({6, 1, 32, 32}) * 2 - 1;
  for (const bool training : {true, false}) {
    discriminator->train(training);
    const auto together = discriminator->forward(x);
    const auto alone = discriminator->forward(x.slice(0, 2, 3));
    EXPECT_TRUE(torch::allclose(together.slice(0, 2, 3), alone, 1e-5, 1e-6)) << "training " << training;
  }
}

TEST(Vae, GaussianKlMatchesTheClosedForm) {
  // Row 0: μ = (1, 0), σ² = (1, 4): 0.5 [(1 + 1 − 1 − 0) + (4 + 0 − 1 − ln 4)] = 2 − ln 2. Row 1: N(0, I), 0.
  const Posterior posterior{torch::tensor({{1.0, 0.0}, {0.0, 0.0}}, torch::kFloat64),
                            torch::tensor({{0.0, std::log(4.0)}, {0.0, 0.0}}, torch::kFloat64)};
  const auto kl = gaussian_kl(posterior);
  ASSERT_EQ(kl.sizes(), (std::vector<std::int64_t>{2}));
  EXPECT_NEAR(kl[0].item<double>(), 2 - std::log(2.0), 1e-12);
  EXPECT_EQ(kl[1].item<double>(), 0.0);
  EXPECT_THROW(gaussian_kl({torch::zeros({2, 3}), torch::zeros({2, 4})}), c10::Error);
}

TEST(Vae, SampleLossIsHalfTheSquaredErrorPlusKl) {
  // Sample 0: x = (1, 2), x̂ = (0, 4): 0.5 (1 + 4) = 2.5, plus KL 2 − ln 2. Sample 1: x = (3, 0), x̂ = 0: 4.5,
  // posterior N(0, I). Images are summed over all their elements: written as (B, 1, 1, 2).
  const auto x = torch::tensor({1.0, 2.0, 3.0, 0.0}, torch::kFloat64).view({2, 1, 1, 2});
  const auto reconstruction = torch::tensor({0.0, 4.0, 0.0, 0.0}, torch::kFloat64).view({2, 1, 1, 2});
  const Posterior posterior{torch::tensor({{1.0, 0.0}, {0.0, 0.0}}, torch::kFloat64),
                            torch::tensor({{0.0, std::log(4.0)}, {0.0, 0.0}}, torch::kFloat64)};
  const auto loss = vae_sample_loss(x, reconstruction, posterior);
  ASSERT_EQ(loss.sizes(), (std::vector<std::int64_t>{2}));
  EXPECT_NEAR(loss[0].item<double>(), 2.5 + 2 - std::log(2.0), 1e-12);
  EXPECT_NEAR(loss[1].item<double>(), 4.5, 1e-12);
  EXPECT_THROW(vae_sample_loss(x, reconstruction.view({2, 2}), posterior), c10::Error);
}

TEST(Vae, ReparameterisationHasThePosteriorsMoments) {
  // μ = (2, −1), σ = (2, 0.5) over 40000 draws: standard errors of the mean σ/200, of the variance
  // σ²·√(2/40000) ≈ 0.007 σ²; the tolerances are about 5 of them.
  const int n = 40000;
  const auto mean = torch::tensor({2.0, -1.0}, torch::kFloat64).expand({n, 2});
  const auto log_var = torch::tensor({std::log(4.0), std::log(0.25)}, torch::kFloat64).expand({n, 2});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(/*seed=*/7);
  const auto z = reparameterise({mean, log_var}, gen);
  ASSERT_EQ(z.sizes(), (std::vector<std::int64_t>{n, 2}));
  const auto m = z.mean(0), v = z.var(0);
  EXPECT_NEAR(m[0].item<double>(), 2.0, 0.05);
  EXPECT_NEAR(m[1].item<double>(), -1.0, 0.0125);
  EXPECT_NEAR(v[0].item<double>(), 4.0, 0.15);
  EXPECT_NEAR(v[1].item<double>(), 0.25, 0.01);

  // The same seed gives the same draws.
  auto again = at::make_generator<at::CPUGeneratorImpl>(/*seed=*/7);
  EXPECT_TRUE(torch::equal(reparameterise({mean, log_var}, again), z));
}

TEST(Vae, ReparameterisationIsDifferentiableInThePosterior) {
  const auto mean = torch::zeros({3, 2}, torch::kFloat64).requires_grad_(true);
  const auto log_var = torch::zeros({3, 2}, torch::kFloat64).requires_grad_(true);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(/*seed=*/1);
  const auto z = reparameterise({mean, log_var}, gen);
  z.sum().backward();
  // dz/dμ = 1; dz/d(log σ²) = ε/2 at σ = 1, i.e. z/2 here since μ = 0.
  EXPECT_TRUE(torch::allclose(mean.grad(), torch::ones({3, 2}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(log_var.grad(), z.detach() / 2));
}

}  // namespace
}  // namespace ganleaks::models
