#include "metrics/fid.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace ganleaks::metrics {
namespace {

TEST(Fid, ZeroForIdenticalSetsAndSymmetric) {
  torch::manual_seed(1);
  const auto x = torch::randn({400, 6}, torch::kFloat64);
  const auto y = torch::randn({300, 6}, torch::kFloat64) * 1.5 + 0.3;
  const auto sx = gaussian_stats(x), sy = gaussian_stats(y);
  EXPECT_NEAR(frechet_distance(sx, sx), 0.0, 1e-9);
  EXPECT_NEAR(frechet_distance(sx, sy), frechet_distance(sy, sx), 1e-9);
  EXPECT_GT(frechet_distance(sx, sy), 0.5);
}

// Diagonal covariances: FID = Σ (μ₁ − μ₂)² + Σ (σ₁ − σ₂)² in closed form.
TEST(Fid, DiagonalGaussiansClosedForm) {
  GaussianStats a{torch::tensor({0.0, 1.0, -2.0}, torch::kFloat64), torch::diag(torch::tensor({1.0, 4.0, 0.25}, torch::kFloat64)), 10};
  GaussianStats b{torch::tensor({1.0, 1.0, 0.0}, torch::kFloat64), torch::diag(torch::tensor({9.0, 1.0, 0.25}, torch::kFloat64)), 10};
  const double expected = (1 + 0 + 4) + ((1 - 3) * (1 - 3) + (2 - 1) * (2 - 1) + 0);
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-10);
}

TEST(Fid, RefusesFewerSamplesThanDimensions) {
  EXPECT_THROW(gaussian_stats(torch::randn({5, 8})), std::invalid_argument);
}

TEST(Fid, PooledPixelFeaturesAre8x8PerChannel) {
  EXPECT_EQ(pooled_pixel_features(torch::rand({3, 1, 32, 32})).sizes(), (std::vector<std::int64_t>{3, 64}));
}

}  // namespace
}  // namespace ganleaks::metrics
