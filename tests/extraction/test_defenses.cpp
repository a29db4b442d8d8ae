// The extraction defenses (extraction/defenses.h) that move latents or filter pixels: ranges, identities at
// strength 0, distortion growing with strength, hand-computed cases and direct convolutions.
#include "extraction/defenses.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "defense_testing.h"

namespace ganleaks::extraction {
namespace {

using namespace ganleaks::extraction::test_support;

// ---- linear interpolation -------------------------------------------------------------------------------

TEST(LinearInterpolation, EndpointsMidpointAndRange) {
  auto gen = seeded(1);
  const auto z = torch::randn({6, 8}, gen), partners = torch::randn({6, 8}, gen);
  const auto z_copy = z.clone();
  EXPECT_TRUE(torch::equal(linear_interpolation(z, partners, 0.0), z));
  EXPECT_TRUE(torch::equal(linear_interpolation(z, partners, 1.0), partners));
  const auto mid = linear_interpolation(z, partners, 0.5);
  EXPECT_EQ(mid.sizes(), z.sizes());
  EXPECT_EQ(mid.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(mid, (z + partners) / 2, 1e-6, 1e-7));
  expect_distortion_grows(z, {0.25, 0.5, 0.75}, [&](double s) { return linear_interpolation(z, partners, s); });
  EXPECT_TRUE(torch::equal(z, z_copy));  // inputs untouched

  EXPECT_THAT(invalid_argument_of([&] { linear_interpolation(z, partners, -0.1); }), HasSubstr("strength = -0.1"));
  EXPECT_THAT(invalid_argument_of([&] { linear_interpolation(z, partners, 1.5); }), HasSubstr("[0, 1]"));
  EXPECT_THAT(invalid_argument_of([&] { linear_interpolation(z, partners, std::nan("")); }), HasSubstr("[0, 1]"));
  EXPECT_THAT(torch_error_of([&] { linear_interpolation(z, partners.narrow(0, 0, 5), 0.5); }),
              HasSubstr("partners must have z's shape"));
  EXPECT_THAT(torch_error_of([&] { linear_interpolation(z.view({6, 2, 4}), partners, 0.5); }),
              HasSubstr("z must be a float32/float64 tensor of shape (B, z_dim)"));
}

// ---- semantic hyperplanes -------------------------------------------------------------------------------

double cosine(const at::Tensor& a, const at::Tensor& b) {
  const auto x = a.to(torch::kDouble), y = b.to(torch::kDouble);
  return (x.dot(y) / (x.norm() * y.norm())).item<double>();
}

TEST(SemanticDirection, RecoversTheNormalOfALinearScore) {
  const auto data = linear_scores(2000, 16, 0.1 * std::sqrt(16.0), 2);
  const auto plane = fit_semantic_hyperplane(data.latents, data.scores, 400);
  ASSERT_EQ(plane.normal.sizes(), (std::vector<std::int64_t>{16}));
  EXPECT_EQ(plane.normal.scalar_type(), torch::kFloat);
  EXPECT_NEAR(plane.normal.norm().item<double>(), 1.0, 1e-6);
  EXPECT_GT(cosine(plane.normal, data.w), 0.95);
  EXPECT_TRUE(plane.converged);
  EXPECT_GT(plane.iterations, 0);
  EXPECT_GT(plane.train_accuracy, 0.99);
  // The top and bottom 20 % straddle the median score 0, so the plane passes near the origin.
  EXPECT_LT(std::abs(plane.offset), 0.5);
  // Moving along the direction raises the score, for every latent.
  const auto direction = semantic_direction(data.latents, data.scores, 400);
  EXPECT_TRUE(torch::equal(direction, plane.normal));
  const auto moved = semantic_interpolation(data.latents, direction.unsqueeze(0),
                                            torch::zeros({2000}, torch::kLong), 1.0);
  EXPECT_TRUE((moved.matmul(data.w) > data.latents.matmul(data.w)).all().item<bool>());
}

TEST(SemanticDirection, FollowsTheScoresOrientation) {
  const auto data = linear_scores(1000, 8, 0.3, 3);
  const auto up = semantic_direction(data.latents, data.scores, 200);
  const auto down = semantic_direction(data.latents, -data.scores, 200);
  EXPECT_GT(cosine(up, data.w), 0.95);
  EXPECT_GT(cosine(down, -data.w), 0.95);
}

TEST(SemanticDirection, IsDeterministic) {
  // Noisy, overlapping classes: many coordinate-descent passes, so the shuffle order matters to the last bit.
  const auto data = linear_scores(3000, 32, 3.0, 4);
  const auto first = fit_semantic_hyperplane(data.latents, data.scores, 600, 0.5);
  std::srand(12345);  // whatever another part of the process did to rand()
  const auto second = fit_semantic_hyperplane(data.latents, data.scores, 600, 0.5);
  EXPECT_TRUE(torch::equal(first.normal, second.normal));
  EXPECT_EQ(first.offset, second.offset);
  EXPECT_EQ(first.iterations, second.iterations);
  EXPECT_GT(cosine(first.normal, data.w), 0.95);
}

TEST(SemanticDirection, RejectsBadArguments) {
  const auto data = linear_scores(50, 4, 0.1, 5);
  EXPECT_THAT(invalid_argument_of([&] { semantic_direction(data.latents, data.scores, 26); }),
              HasSubstr("k = 26 latents per side needs 1 <= k and 2k <= N = 50"));
  EXPECT_THAT(invalid_argument_of([&] { semantic_direction(data.latents, data.scores, 0); }), HasSubstr("k = 0"));
  EXPECT_THAT(invalid_argument_of([&] { semantic_direction(data.latents, data.scores, 5, 0.0); }),
              HasSubstr("svm_c = 0"));
  EXPECT_THAT(torch_error_of([&] { semantic_direction(data.latents, data.scores.narrow(0, 0, 49), 5); }),
              HasSubstr("scores must be a float32/float64 tensor of shape (N) = (50)"));
  EXPECT_THAT(torch_error_of([&] { semantic_direction(data.latents.flatten(), data.scores, 5); }),
              HasSubstr("latents must be a float32/float64 tensor of shape (N, z_dim)"));
  auto bad = data.scores.clone();
  bad[3] = std::nan("");
  EXPECT_THAT(torch_error_of([&] { semantic_direction(data.latents, bad, 5); }), HasSubstr("must be finite"));
}

TEST(SemanticInterpolation, MovesEachRowByTheMagnitudeAlongItsDirection) {
  auto gen = seeded(6);
  auto directions = torch::randn({3, 10}, gen);
  directions = directions / directions.norm(2, 1, true);
  const auto z = torch::randn({5, 10}, gen);
  const auto which = torch::tensor(std::vector<std::int64_t>{0, 2, 1, 2, 0});
  const auto moved = semantic_interpolation(z, directions, which, 3.0);
  EXPECT_EQ(moved.sizes(), z.sizes());
  EXPECT_EQ(moved.scalar_type(), torch::kFloat);
  for (std::int64_t i = 0; i < 5; ++i) {
    const auto delta = moved[i] - z[i];
    EXPECT_NEAR(delta.norm().item<double>(), 3.0, 1e-5) << "row " << i;
    EXPECT_TRUE(torch::allclose(delta, 3.0 * directions[which[i].item<std::int64_t>()], 1e-5, 1e-6)) << "row " << i;
  }
  EXPECT_TRUE(torch::equal(semantic_interpolation(z, directions, which, 0.0), z));
  expect_distortion_grows(z, {1, 2, 3}, [&](double m) { return semantic_interpolation(z, directions, which, m); });

  EXPECT_THAT(torch_error_of([&] { semantic_interpolation(z, directions, which + 1, 3.0); }),
              HasSubstr("which must lie in [0, H) = [0, 3), got values in [1, 3]"));
  EXPECT_THAT(torch_error_of([&] { semantic_interpolation(z, directions, which.to(torch::kInt), 3.0); }),
              HasSubstr("which must be an int64 tensor of shape (B) = (5)"));
  EXPECT_THAT(torch_error_of([&] { semantic_interpolation(z, directions.narrow(1, 0, 9), which, 3.0); }),
              HasSubstr("directions must be a float tensor of shape (H, z_dim) = (H, 10)"));
}

// ---- Gaussian noise -------------------------------------------------------------------------------------

TEST(GaussianNoise, HasTheRequestedStdAndFollowsTheGenerator) {
  const auto zeros = torch::zeros({16, 1, 32, 32});
  auto gen = seeded(7);
  const auto noisy = gaussian_noise(zeros, 0.1, gen);
  EXPECT_EQ(noisy.sizes(), zeros.sizes());
  EXPECT_EQ(noisy.scalar_type(), torch::kFloat);
  // 16384 draws: the std's standard error is 0.55 %, and N(0, 0.1^2) practically never reaches the clamp.
  EXPECT_NEAR(noisy.std().item<double>(), 0.1, 0.003);
  EXPECT_NEAR(noisy.mean().item<double>(), 0.0, 0.003);
  auto same = seeded(7), other = seeded(8);
  EXPECT_TRUE(torch::equal(gaussian_noise(zeros, 0.1, same), noisy));
  EXPECT_FALSE(torch::equal(gaussian_noise(zeros, 0.1, other), noisy));

  const auto x = random_images(4, 3, 8, 8, 9);
  EXPECT_TRUE(torch::equal(gaussian_noise(x, 0.0, gen), x));
  const auto loud = gaussian_noise(x, 2.0, gen);
  EXPECT_LE(max_abs(loud), 1.0);
  EXPECT_EQ(max_abs(loud), 1.0);  // clamped, not wrapped
  expect_distortion_grows(zeros, {0.05, 0.1, 0.2}, [&](double s) { return gaussian_noise(zeros, s, gen); });
  EXPECT_THAT(invalid_argument_of([&] { gaussian_noise(x, -1.0, gen); }), HasSubstr("std = -1 must be >= 0"));
  EXPECT_THAT(torch_error_of([&] { gaussian_noise(x.flatten(1), 0.1, gen); }),
              HasSubstr("x must be a float32/float64 tensor of images (B, C, H, W)"));
}

// ---- Gaussian filter ------------------------------------------------------------------------------------

// Half-sample symmetric reflection written as repeated mirroring (the library uses the period-2n formula).
std::int64_t mirror(std::int64_t i, std::int64_t n) {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return i;
}

// Direct 2-D convolution with the outer-product kernel, in float64.
at::Tensor direct_filter(const at::Tensor& x, double sigma) {
  const int r = static_cast<int>(std::ceil(3 * sigma));
  std::vector<double> k(2 * r + 1);
  double sum = 0;
  for (int i = -r; i <= r; ++i) sum += k[i + r] = std::exp(-0.5 * i * i / (sigma * sigma));
  for (double& v : k) v /= sum;
  const auto in = x.to(torch::kDouble).contiguous();
  auto out = torch::zeros_like(in);
  const auto a = in.accessor<double, 4>();
  auto o = out.accessor<double, 4>();
  const std::int64_t h = x.size(2), w = x.size(3);
  for (std::int64_t b = 0; b < x.size(0); ++b)
    for (std::int64_t c = 0; c < x.size(1); ++c)
      for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < w; ++j) {
          double acc = 0;
          for (int di = -r; di <= r; ++di)
            for (int dj = -r; dj <= r; ++dj) {
              acc += k[di + r] * k[dj + r] * a[b][c][mirror(i + di, h)][mirror(j + dj, w)];
            }
          o[b][c][i][j] = acc;
        }
  return out;
}

TEST(GaussianFilter, KernelIsNormalisedWithRadiusThreeSigma) {
  for (const double sigma : {0.3, 0.5, 1.0, 1.3, 2.5}) {
    const auto k = gaussian_kernel(sigma);
    const auto radius = static_cast<std::int64_t>(std::ceil(3 * sigma));
    ASSERT_EQ(k.size(0), 2 * radius + 1) << sigma;
    EXPECT_NEAR(k.sum().item<double>(), 1.0, 1e-14) << sigma;
    EXPECT_TRUE(torch::equal(k, k.flip(0))) << sigma;
    EXPECT_EQ(k.argmax().item<std::int64_t>(), radius) << sigma;
  }
  EXPECT_TRUE(torch::equal(gaussian_kernel(0), torch::ones({1}, torch::kDouble)));
  EXPECT_THAT(invalid_argument_of([] { gaussian_kernel(-0.5); }), HasSubstr("sigma = -0.5 must be >= 0"));
}

TEST(GaussianFilter, ConstantStaysConstantAndTheMeanIsKept) {
  const auto constant = torch::full({2, 3, 12, 9}, 0.3f);
  EXPECT_LT(max_abs(gaussian_filter(constant, 1.7) - 0.3), 1e-6);
  // A symmetric kernel and half-sample reflection keep each row's sum exactly (while the radius is below the size).
  const auto x = random_images(3, 2, 32, 32, 10), x_copy = x.clone();
  for (const double sigma : {0.8, 2.0, 4.0}) {
    const auto y = gaussian_filter(x, sigma);
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_EQ(y.scalar_type(), torch::kFloat);
    EXPECT_LE(max_abs(y), 1.0);
    EXPECT_LT(max_abs(y.mean({2, 3}) - x.mean({2, 3})), 1e-6) << sigma;
  }
  EXPECT_TRUE(torch::equal(x, x_copy));
  EXPECT_TRUE(torch::equal(gaussian_filter(x, 0.0), x));
  expect_distortion_grows(x, {0.5, 1.0, 2.0}, [&](double s) { return gaussian_filter(x, s); });
}

TEST(GaussianFilter, APointSpreadsWithVarianceSigmaSquaredPerAxis) {
  const double sigma = 1.5;
  auto point = torch::zeros({1, 1, 41, 41}, torch::kDouble);
  point[0][0][20][20] = 1.0;
  const auto y = gaussian_filter(point, sigma)[0][0];
  EXPECT_NEAR(y.sum().item<double>(), 1.0, 1e-12);
  const auto offsets = torch::arange(41, torch::kDouble) - 20;
  const auto rows = y.sum(1), cols = y.sum(0);
  EXPECT_NEAR(rows.dot(offsets).item<double>(), 0.0, 1e-12);
  const double var_rows = rows.dot(offsets.square()).item<double>();
  const double var_cols = cols.dot(offsets.square()).item<double>();
  const auto k = gaussian_kernel(sigma);
  const auto kernel_offsets = torch::arange(k.size(0), torch::kDouble) - k.size(0) / 2;
  const double kernel_var = k.dot(kernel_offsets.square()).item<double>();
  EXPECT_NEAR(var_rows, kernel_var, 1e-12);
  EXPECT_NEAR(var_cols, kernel_var, 1e-12);
  // Truncation at ceil(3 sigma) = 5 = 3.33 sigma loses about 1 % of the variance.
  EXPECT_NEAR(var_rows / (sigma * sigma), 1.0, 0.02);
  // Separable: the 2-D spread is the outer product of the 1-D ones, with no covariance.
  const auto cross = (y * offsets.view({41, 1}) * offsets.view({1, 41})).sum().item<double>();
  EXPECT_NEAR(cross, 0.0, 1e-12);
}

TEST(GaussianFilter, EqualsADirectTwoDimensionalConvolution) {
  const auto x = random_images(2, 3, 9, 11, 11);
  // sigma = 4: radius 12 is wider than the image, so the reflection repeats.
  for (const double sigma : {0.6, 1.2, 4.0}) {
    EXPECT_LT(max_abs(gaussian_filter(x, sigma).to(torch::kDouble) - direct_filter(x, sigma)), 2e-6) << sigma;
  }
}

// ---- JPEG compression -----------------------------------------------------------------------------------

TEST(JpegCompression, QualitySetsTheLoss) {
  const auto gray = smooth_images(4, 1, 32, 32, 12), rgb = smooth_images(3, 3, 32, 32, 13);
  for (const auto& x : {gray, rgb}) {
    const auto x_copy = x.clone();
    const auto best = jpeg_compression(x, 100);
    EXPECT_EQ(best.sizes(), x.sizes());
    EXPECT_EQ(best.scalar_type(), torch::kFloat);
    EXPECT_LT(max_abs(best - x), 0.05);
    EXPECT_LE(max_abs(best), 1.0);
    // Values on the uint8 grid v / 127.5 - 1.
    const auto levels = (best + 1) * 127.5;
    EXPECT_LT(max_abs(levels - levels.round()), 1e-4);
    expect_distortion_grows(x, {90, 50, 10}, [&](double q) { return jpeg_compression(x, static_cast<int>(q)); });
    EXPECT_TRUE(torch::equal(x, x_copy));
  }
  // A decoded image decodes to itself at quality 100 only approximately, but its pixel grid is exact.
  const auto grid = from_uint8_pixels(to_uint8_pixels(gray));
  EXPECT_TRUE(torch::equal(to_uint8_pixels(grid), to_uint8_pixels(gray)));
  EXPECT_LT(max_abs(grid - gray), 0.5 / 127.5 + 1e-6);
}

TEST(JpegCompression, RejectsBadInput) {
  const auto x = smooth_images(2, 1, 16, 16, 14);
  EXPECT_THAT(torch_error_of([] { jpeg_compression(torch::zeros({2, 2, 16, 16}), 75); }),
              HasSubstr("x must have 1 (grayscale) or 3 (RGB) channels"));
  EXPECT_THAT(torch_error_of([] { jpeg_compression(torch::zeros({2, 4, 16, 16}), 75); }),
              HasSubstr("got [2, 4, 16, 16]"));
  EXPECT_THAT(torch_error_of([] { jpeg_compression(torch::zeros({2, 16, 16}), 75); }),
              HasSubstr("x must be a float32/float64 tensor of images (B, C, H, W)"));
  EXPECT_THAT(invalid_argument_of([&] { jpeg_compression(x, 0); }), HasSubstr("quality = 0 must lie in [1, 100]"));
  EXPECT_THAT(invalid_argument_of([&] { jpeg_compression(x, 101); }), HasSubstr("quality = 101"));
}


}  // namespace
}  // namespace ganleaks::extraction
