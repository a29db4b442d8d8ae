// Spectral normalisation against the SVD, and the SNGAN networks' shapes and gradients.
#include "models/sngan.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "models/spectral_norm.h"

namespace ganleaks::models {
namespace {
namespace F = torch::nn::functional;

double largest_singular_value(const torch::Tensor& weight) {
  return torch::linalg_svdvals(weight.detach().view({weight.size(0), -1}))[0].item<double>();
}

TEST(SpectralNorm, ConvSigmaConvergesToTheLargestSingularValue) {
  torch::manual_seed(0);
  SpectralNormConv2d conv(3, 5, 3, 1, 1);
  conv->power_iterate(200);
  const double sigma = largest_singular_value(conv->weight_orig);
  EXPECT_NEAR(conv->sigma_estimate(), sigma, 1e-4 * sigma);
  EXPECT_NEAR(largest_singular_value(conv->normalised_weight()), 1.0, 1e-4);
}

TEST(SpectralNorm, LinearSigmaConvergesToTheLargestSingularValue) {
  torch::manual_seed(1);
  SpectralNormLinear linear(7, 4);
  linear->power_iterate(200);
  const double sigma = largest_singular_value(linear->weight_orig);
  EXPECT_NEAR(linear->sigma_estimate(), sigma, 1e-4 * sigma);
  EXPECT_NEAR(largest_singular_value(linear->normalised_weight()), 1.0, 1e-4);
}

TEST(SpectralNorm, IteratesInTrainingModeOnly) {
  torch::manual_seed(2);
  SpectralNormConv2d conv(2, 4, 4, 2, 1);
  torch::manual_seed(2);
  SpectralNormConv2d twin(2, 4, 4, 2, 1);  // same initialisation
  const auto x = torch::randn({3, 2, 8, 8});
  conv->eval();
  const auto u0 = conv->u.clone();
  const auto y = conv->forward(x);
  EXPECT_TRUE(torch::equal(conv->u, u0));
  // Eval forward = the plain convolution with W / (uᵀWv); σ > 0 from construction on.
  const auto sigma = torch::dot(conv->u, torch::mv(conv->weight_orig.view({4, -1}), conv->v));
  EXPECT_GT(sigma.item<double>(), 0.0);
  const auto expected =
      F::conv2d(x, conv->weight_orig / sigma, F::Conv2dFuncOptions().bias(conv->bias).stride(2).padding(1));
  EXPECT_TRUE(torch::allclose(y, expected, 1e-5, 1e-6));
  EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{3, 4, 4, 4}));

  // Training forward = one power-iteration step, then the same computation.
  conv->train();
  const auto y_train = conv->forward(x);
  twin->power_iterate(1);
  EXPECT_TRUE(torch::equal(conv->u, twin->u));
  EXPECT_TRUE(torch::equal(conv->v, twin->v));
  twin->eval();
  EXPECT_TRUE(torch::allclose(y_train, twin->forward(x), 1e-5, 1e-6));
  EXPECT_NEAR(conv->u.norm().item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(conv->v.norm().item<double>(), 1.0, 1e-6);
}

TEST(SpectralNorm, RejectsWrongInputShape) {
  SpectralNormLinear linear(7, 4);
  EXPECT_THROW(linear->forward(torch::zeros({2, 6})), c10::Error);
  SpectralNormConv2d conv(3, 5, 3);
  EXPECT_THROW(conv->forward(torch::zeros({2, 4, 8, 8})), c10::Error);
}

TEST(Sngan, Shapes) {
  torch::manual_seed(3);
  const SnganOptions options{.z_dim = 16, .width = 4, .channels = 3};
  SnganGenerator generator(options);
  SnganDiscriminator discriminator(options);
  const auto images = generator->forward(torch::randn({5, 16}));
  EXPECT_EQ(images.sizes(), (std::vector<std::int64_t>{5, 3, 32, 32}));
  EXPECT_LE(images.abs().max().item<double>(), 1.0);
  EXPECT_EQ(discriminator->forward(images).sizes(), (std::vector<std::int64_t>{5}));
  EXPECT_THROW(generator->forward(torch::randn({5, 15})), c10::Error);
  EXPECT_THROW(discriminator->forward(torch::randn({5, 3, 16, 16})), c10::Error);
}

TEST(Sngan, DiscriminatorScoresEverySampleOnItsOwn) {
  torch::manual_seed(4);
  SnganDiscriminator discriminator(SnganOptions{.width = 4});
  discriminator->eval();
  const auto x = torch::randn({4, 1, 32, 32});
  const auto together = discriminator->forward(x);
  for (int i = 0; i < 4; ++i) {
    const double alone = discriminator->forward(x.slice(0, i, i + 1)).item<double>();
    EXPECT_NEAR(alone, together[i].item<double>(), 1e-5 * (1 + std::abs(alone)));
  }
}

TEST(Sngan, DiscriminatorGradientsReachEveryParameter) {
  torch::manual_seed(5);
  SnganDiscriminator discriminator(SnganOptions{.width = 4});
  // Two training forwards (each updating u, v in place) before one backward, as a hinge loss on real and
  // generated batches does.
  const auto real = discriminator->forward(torch::randn({3, 1, 32, 32}));
  const auto fake = discriminator->forward(torch::randn({3, 1, 32, 32}));
  (torch::relu(1 - real).mean() + torch::relu(1 + fake).mean()).backward();
  for (const auto& p : discriminator->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
  }
  for (const auto& b : discriminator->named_buffers()) EXPECT_FALSE(b.value().requires_grad()) << b.key();
}

}  // namespace
}  // namespace ganleaks::models
