#include "attacks/defenses.h"

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

namespace ganleaks::attacks {
namespace {

using ::testing::HasSubstr;

at::Generator seeded(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

double mse(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).square().mean().item<double>();
}

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

// Smooth images in [-0.8, 0.8]: a few low-frequency waves per image and channel.
at::Tensor smooth_images(std::int64_t b, std::int64_t c, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  auto gen = seeded(seed);
  const auto phase = torch::rand({b, c, 1, 1}, gen) * 6.28, freq = torch::rand({b, c, 1, 1}, gen) * 0.3 + 0.05;
  const auto rows = torch::arange(h, torch::kFloat).view({1, 1, h, 1});
  const auto cols = torch::arange(w, torch::kFloat).view({1, 1, 1, w});
  return 0.5 * torch::sin(freq * rows + phase) * torch::cos(0.7 * freq * cols - phase) + 0.3 * torch::cos(freq * cols);
}

at::Tensor random_images(std::int64_t b, std::int64_t c, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  auto gen = seeded(seed);
  return torch::rand({b, c, h, w}, gen) * 1.8 - 0.9;
}

template <class F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no std::invalid_argument";
}

template <class F>
std::string torch_error_of(F&& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "no c10::Error";
}

// Strength grows -> the distortion (MSE to the input) grows.
template <class F>
void expect_distortion_grows(const at::Tensor& input, const std::vector<double>& strengths, F&& defend) {
  double previous = 0;
  for (const double s : strengths) {
    const double d = mse(defend(s), input);
    EXPECT_GT(d, previous) << "strength " << s;
    previous = d;
  }
}

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

struct LinearScores {
  at::Tensor latents, scores, w;
};

// Latents z ~ N(0, I) whose score is w·z plus Gaussian noise.
LinearScores linear_scores(std::int64_t n, std::int64_t z_dim, double noise, std::uint64_t seed) {
  auto gen = seeded(seed);
  LinearScores out;
  out.latents = torch::randn({n, z_dim}, gen);
  out.w = torch::randn({z_dim}, gen);
  out.scores = out.latents.matmul(out.w) + noise * torch::randn({n}, gen);
  return out;
}

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

// ---- adversarial noise ----------------------------------------------------------------------------------

// A linear classifier with known weights on 16x16 grayscale images: logits = W vec(x) + b.
struct LinearClassifier {
  torch::nn::Linear fc{256, 10};
  int calls = 0;
  LinearClassifier() {
    torch::NoGradGuard no_grad;
    auto gen = seeded(15);
    fc->weight.copy_(torch::randn({10, 256}, gen) / 16.0);
    fc->bias.copy_(torch::randn({10}, gen) * 0.1);
  }
  std::function<at::Tensor(const at::Tensor&)> logits() {
    return [this](const at::Tensor& x) {
      ++calls;
      return fc(x.flatten(1));
    };
  }
};

// The FGSM step for the linear classifier in closed form: ∂CE/∂x = Wᵀ (softmax(Wx + b) - onehot(argmax)).
at::Tensor analytic_input_gradient(const LinearClassifier& classifier, const at::Tensor& x) {
  torch::NoGradGuard no_grad;
  const auto w = classifier.fc->weight.to(torch::kDouble), b = classifier.fc->bias.to(torch::kDouble);
  const auto z = x.flatten(1).to(torch::kDouble).matmul(w.t()) + b;
  const auto onehot = torch::one_hot(z.argmax(1), 10).to(torch::kDouble);
  return (z.softmax(1) - onehot).matmul(w).view_as(x);
}

double flip_rate(LinearClassifier& classifier, const at::Tensor& clean, const at::Tensor& perturbed) {
  torch::NoGradGuard no_grad;
  const auto before = classifier.fc(clean.flatten(1)).argmax(1), after = classifier.fc(perturbed.flatten(1)).argmax(1);
  return (before != after).to(torch::kDouble).mean().item<double>();
}

TEST(AdversarialNoise, StaysInTheBallAndFlipsFarMoreThanRandomSigns) {
  LinearClassifier classifier;
  const auto x = random_images(512, 1, 16, 16, 16), x_copy = x.clone();
  const double epsilon = 0.05;
  torch::NoGradGuard outer;  // the query-answering job runs without autograd
  const auto fgsm = adversarial_noise(x, classifier.logits(), epsilon, 1);
  const auto pgd = adversarial_noise(x, classifier.logits(), epsilon, 10);
  for (const auto& adv : {fgsm, pgd}) {
    EXPECT_EQ(adv.sizes(), x.sizes());
    EXPECT_EQ(adv.scalar_type(), torch::kFloat);
    EXPECT_LE(max_abs(adv - x), epsilon + 1e-6);
    EXPECT_LE(max_abs(adv), 1.0);
    EXPECT_FALSE(adv.requires_grad());
  }
  EXPECT_TRUE(torch::equal(x, x_copy));
  // Nothing accumulated on the classifier.
  EXPECT_FALSE(classifier.fc->weight.grad().defined());
  EXPECT_FALSE(classifier.fc->bias.grad().defined());

  auto gen = seeded(17);
  const auto random_signs = (x + epsilon * (torch::randint(0, 2, x.sizes(), gen) * 2 - 1)).clamp(-1, 1);
  const double flips_fgsm = flip_rate(classifier, x, fgsm), flips_pgd = flip_rate(classifier, x, pgd);
  const double flips_random = flip_rate(classifier, x, random_signs);
  std::printf("flip rate at epsilon %.2f: FGSM %.3f, PGD-10 %.3f, random signs %.3f\n", epsilon, flips_fgsm, flips_pgd,
              flips_random);
  EXPECT_GT(flips_fgsm, 0.8);
  EXPECT_GE(flips_pgd, flips_fgsm - 0.02);
  EXPECT_LT(flips_random, 0.15);
  EXPECT_GT(flips_fgsm, 5 * flips_random);
}

TEST(AdversarialNoise, OneStepIsFgsm) {
  LinearClassifier classifier;
  const auto x = random_images(64, 1, 16, 16, 18);
  const double epsilon = 0.03;
  const auto adv = adversarial_noise(x, classifier.logits(), epsilon, 1);
  EXPECT_EQ(classifier.calls, 1);
  const auto grad = analytic_input_gradient(classifier, x);
  ASSERT_GT(grad.abs().min().item<double>(), 1e-9);  // no sign left to rounding
  const auto expected = (x + epsilon * grad.sign().to(torch::kFloat)).clamp(-1, 1);
  EXPECT_TRUE(torch::equal(adv, expected)) << max_abs(adv - expected);
  // Random pixels near the border: the clamp to [-1, 1] is hit and kept.
  const auto edge = torch::full({4, 1, 16, 16}, 0.99f);
  EXPECT_LE(max_abs(adversarial_noise(edge, classifier.logits(), 0.1, 1)), 1.0);
}

TEST(AdversarialNoise, ZeroEpsilonIsTheIdentityAndDistortionGrows) {
  LinearClassifier classifier;
  const auto x = random_images(32, 1, 16, 16, 19);
  EXPECT_TRUE(torch::equal(adversarial_noise(x, classifier.logits(), 0.0, 5), x));
  EXPECT_EQ(classifier.calls, 0);
  expect_distortion_grows(x, {0.01, 0.03, 0.1},
                          [&](double e) { return adversarial_noise(x, classifier.logits(), e, 5); });
  EXPECT_EQ(classifier.calls, 15);
}

TEST(AdversarialNoise, RejectsBadArgumentsAndClassifiers) {
  LinearClassifier classifier;
  const auto x = random_images(4, 1, 16, 16, 20);
  EXPECT_THAT(invalid_argument_of([&] { adversarial_noise(x, classifier.logits(), -0.1, 1); }),
              HasSubstr("epsilon = -0.1 must be >= 0"));
  EXPECT_THAT(invalid_argument_of([&] { adversarial_noise(x, classifier.logits(), 0.1, 0); }),
              HasSubstr("steps = 0 must be >= 1"));
  EXPECT_THAT(torch_error_of([&] { adversarial_noise(x, [](const at::Tensor& t) { return t.flatten(); }, 0.1, 1); }),
              HasSubstr("logits must return a float tensor of shape (B, classes) = (4, >= 2)"));
  EXPECT_THAT(torch_error_of([&] {
                adversarial_noise(x, [&](const at::Tensor& t) { return classifier.fc(t.flatten(1)).detach(); }, 0.1, 1);
              }),
              HasSubstr("not differentiable"));
}

// ---- export for the Python reference check (tests/attacks/check_semantic_svm.py) ------------------------

// One row per leading index; 9 significant digits recover a float32 exactly, 17 a float64.
void write_csv(const std::filesystem::path& file, const at::Tensor& t) {
  const char* format = t.scalar_type() == torch::kDouble ? "%.17g" : "%.9g";
  const auto rows = t.dim() == 1 ? t.to(torch::kDouble).view({1, -1}) : t.to(torch::kDouble).reshape({t.size(0), -1});
  const auto values = rows.contiguous();
  const auto a = values.accessor<double, 2>();
  std::ofstream out(file);
  char buffer[32];
  for (std::int64_t i = 0; i < values.size(0); ++i) {
    for (std::int64_t j = 0; j < values.size(1); ++j) {
      std::snprintf(buffer, sizeof buffer, format, a[i][j]);
      out << (j ? "," : "") << buffer;
    }
    out << '\n';
  }
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::string shape_json(const at::Tensor& t) {
  std::string s = "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// With GANLEAKS_DEFENSES_EXPORT naming a folder, writes semantic-SVM, filter and JPEG cases and this library's
// answers there, with manifest.json; check_semantic_svm.py recomputes them with scikit-learn, scipy and Pillow.
TEST(DefensesExport, WritesCasesForThePythonCheck) {
  const char* folder = std::getenv("GANLEAKS_DEFENSES_EXPORT");
  if (!folder) GTEST_SKIP() << "run through ctest (defenses_vs_references)";
  const std::filesystem::path dir(folder);
  std::filesystem::create_directories(dir);
  std::ostringstream manifest;
  manifest << "{\n  \"svm\": [";
  struct SvmCase {
    const char* name;
    std::int64_t n, z_dim, k;
    double noise, c;
  };
  const SvmCase svm_cases[] = {
      {"mixed_64d", 2000, 64, 500, 0.1, 1.0},
      {"noisy_100d", 4000, 100, 1000, 1.0, 1.0},
      {"noisy_100d_c0.01", 4000, 100, 1000, 1.0, 0.01},
      {"few_100d", 500, 100, 20, 0.5, 1.0},
  };
  for (std::size_t i = 0; i < std::size(svm_cases); ++i) {
    const auto& c = svm_cases[i];
    // Score w·z + noise (|w| ~ sqrt(z_dim)) plus a non-linear part: the classes overlap, as real scores do.
    const double scale = std::sqrt(static_cast<double>(c.z_dim));
    auto data = linear_scores(c.n, c.z_dim, c.noise * scale, 100 + i);
    data.scores = data.scores + 0.5 * scale * (data.latents.select(1, 0).square() - 1);
    const auto plane = fit_semantic_hyperplane(data.latents, data.scores, c.k, c.c);
    const std::string base = std::string("svm_") + c.name;
    write_csv(dir / (base + "_latents.csv"), data.latents);
    write_csv(dir / (base + "_scores.csv"), data.scores);
    write_csv(dir / (base + "_normal.csv"), plane.normal);
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s\n    {\"name\": \"%s\", \"k\": %lld, \"svm_c\": %.17g, \"offset\": %.17g, \"iterations\": %d, "
                  "\"converged\": %s, \"train_accuracy\": %.17g}",
                  i ? "," : "", c.name, static_cast<long long>(c.k), c.c, plane.offset, plane.iterations,
                  plane.converged ? "true" : "false", plane.train_accuracy);
    manifest << line;
  }
  manifest << "\n  ],\n  \"filter\": [";
  const double sigmas[] = {0.7, 1.5, 5.0};
  const auto image = random_images(2, 3, 13, 17, 200);
  write_csv(dir / "filter_input.csv", image);
  for (std::size_t i = 0; i < std::size(sigmas); ++i) {
    const std::string file = "filter_" + std::to_string(i) + ".csv";
    write_csv(dir / file, gaussian_filter(image, sigmas[i]));
    manifest << (i ? "," : "") << "\n    {\"sigma\": " << sigmas[i] << ", \"input\": \"filter_input.csv\", \"shape\": "
             << shape_json(image) << ", \"output\": \"" << file << "\"}";
  }
  manifest << "\n  ],\n  \"jpeg\": [";
  const auto gray = (smooth_images(3, 1, 32, 32, 300) + 0.1 * random_images(3, 1, 32, 32, 301)).clamp(-1, 1);
  const auto rgb = (smooth_images(2, 3, 24, 40, 302) + 0.1 * random_images(2, 3, 24, 40, 303)).clamp(-1, 1);
  int jpeg_case = 0;
  for (const auto& [name, x, qualities] : {std::tuple{"gray", gray, std::vector<int>{5, 50, 90, 100}},
                                           std::tuple{"rgb", rgb, std::vector<int>{30, 75, 95, 100}}}) {
    const std::string input = std::string("jpeg_") + name + "_input.csv";
    write_csv(dir / input, to_uint8_pixels(x));
    for (const int q : qualities) {
      const std::string file = "jpeg_" + std::to_string(jpeg_case) + ".csv";
      write_csv(dir / file, to_uint8_pixels(jpeg_compression(x, q)));
      manifest << (jpeg_case++ ? "," : "") << "\n    {\"quality\": " << q << ", \"input\": \"" << input
               << "\", \"shape\": " << shape_json(x) << ", \"output\": \"" << file << "\"}";
    }
  }
  manifest << "\n  ]\n}\n";
  std::ofstream(dir / "manifest.json") << manifest.str();
  ASSERT_TRUE(std::filesystem::exists(dir / "manifest.json"));
}

}  // namespace
}  // namespace ganleaks::attacks
