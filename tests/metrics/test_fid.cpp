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

// Moments added in parts (as ranks do, then summed) give the statistics of the whole set.
TEST(Fid, MomentsInPartsEqualTheWholeSet) {
  torch::manual_seed(2);
  const auto x = torch::randn({500, 7}, torch::kFloat64) * 2 + 1;
  FeatureMoments a, b, whole;
  a.add(x.slice(0, 0, 180));
  b.add(x.slice(0, 180));
  whole.add(x);
  const auto summed = FeatureMoments::unpacked(a.packed() + b.packed(), 7);
  const auto direct = gaussian_stats(x);
  EXPECT_EQ(summed.count, 500);
  EXPECT_TRUE(torch::allclose(summed.stats().mean, direct.mean, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(summed.stats().covariance, direct.covariance, 1e-10, 1e-10));
  EXPECT_NEAR(frechet_distance(whole.stats(), direct), 0.0, 1e-9);
  FeatureMoments few;
  few.add(x.slice(0, 0, 7));
  EXPECT_THROW(few.stats(), std::invalid_argument);  // N = d: singular
}

// The trace term by eigh of Σ₁^½Σ₂Σ₁^½ and by the eigenvalues of Σ₁Σ₂ agree (SPEC §4's cross-check).
TEST(Fid, TraceTermCrossCheck) {
  torch::manual_seed(3);
  const auto sx = gaussian_stats(torch::randn({400, 12}, torch::kFloat64));
  const auto sy = gaussian_stats(torch::randn({400, 12}, torch::kFloat64).mm(torch::randn({12, 12}, torch::kFloat64)));
  const double eig = trace_sqrt_of_product(sx, sy);
  const double fid = frechet_distance(sx, sy);
  const double mean_term = (sx.mean - sy.mean).pow(2).sum().item<double>();
  const double via_eig = mean_term + sx.covariance.trace().item<double>() + sy.covariance.trace().item<double>() - 2 * eig;
  EXPECT_NEAR(fid, via_eig, 1e-9 * std::abs(fid));
  EXPECT_DOUBLE_EQ(frechet_distance_via_product(sx, sy), via_eig);
}

TEST(Fid, PooledPixelFeaturesAre8x8PerChannel) {
  EXPECT_EQ(pooled_pixel_features(torch::rand({3, 1, 32, 32})).sizes(), (std::vector<std::int64_t>{3, 64}));
}

}  // namespace
}  // namespace ganleaks::metrics
