// The adversarial-noise defense (FGSM/PGD against a classifier), and the export of every defense's cases for the
// Python reference check (check_semantic_svm.py: scikit-learn, scipy.ndimage, Pillow).
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

// ---- export for the Python reference check (tests/extraction/check_semantic_svm.py) ------------------------

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
}  // namespace ganleaks::extraction
