// The classifier's perceptual distance (attacks/perceptual.h): LPIPS's formula recomputed location by location,
// zero on identical images, symmetric, and differentiable in the images only (the classifier stays frozen).
#include "attacks/perceptual.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attacks/reconstruction.h"
#include "models/dcgan.h"

namespace ganleaks::attacks {
namespace {

constexpr int kSide = 32;

models::Classifier small_classifier() {
  torch::manual_seed(3);
  models::Classifier c(models::ClassifierOptions{.width = 4, .feature_dim = 8});
  c->train();
  {  // a few training-mode passes move BatchNorm's running statistics off their initial values
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) c->forward(torch::rand({8, 1, kSide, kSide}) * 2 - 1);
  }
  c->eval();
  return c;
}

at::Tensor images(int rows) { return (torch::rand({rows, kSide * kSide}) * 2 - 1); }

// The formula written out with loops over layers, locations and channels, in float64.
double by_loops(models::Classifier& c, const at::Tensor& a, const at::Tensor& b) {
  torch::NoGradGuard no_grad;
  const auto fa = c->block_outputs(a.view({1, 1, kSide, kSide})), fb = c->block_outputs(b.view({1, 1, kSide, kSide}));
  double total = 0;
  for (std::size_t l = 0; l < fa.size(); ++l) {
    const auto x = fa[l][0].to(torch::kFloat64), y = fb[l][0].to(torch::kFloat64);
    const auto channels = x.size(0), height = x.size(1), width = x.size(2);
    double layer = 0;
    for (std::int64_t h = 0; h < height; ++h) {
      for (std::int64_t w = 0; w < width; ++w) {
        double nx = 0, ny = 0;
        for (std::int64_t ch = 0; ch < channels; ++ch) {
          nx += x[ch][h][w].item<double>() * x[ch][h][w].item<double>();
          ny += y[ch][h][w].item<double>() * y[ch][h][w].item<double>();
        }
        nx = std::sqrt(nx) + 1e-10, ny = std::sqrt(ny) + 1e-10;
        for (std::int64_t ch = 0; ch < channels; ++ch) {
          const double d = x[ch][h][w].item<double>() / nx - y[ch][h][w].item<double>() / ny;
          layer += d * d;
        }
      }
    }
    total += layer / static_cast<double>(height * width);
  }
  return total / static_cast<double>(fa.size());
}

TEST(ClassifierPerceptual, IsLpipsFormulaOnTheClassifiersBlocks) {
  auto classifier = small_classifier();
  ASSERT_EQ(classifier->block_outputs(torch::zeros({1, 1, kSide, kSide})).size(), 4u);
  const ClassifierPerceptual distance(classifier, 1, kSide);
  const auto a = images(3), b = images(3);
  const auto d = distance(a, b);
  ASSERT_EQ(d.sizes(), (std::vector<std::int64_t>{3}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(d[i].item<double>(), by_loops(classifier, a[i], b[i]), 1e-5) << "pair " << i;
    EXPECT_GT(d[i].item<double>(), 0.0);
    EXPECT_LE(d[i].item<double>(), 4.0);
  }
  EXPECT_TRUE(torch::allclose(distance(b, a), d, 1e-6, 1e-7));  // symmetric
  EXPECT_LT(distance(a, a).abs().max().item<double>(), 1e-10);   // zero on identical images
  // Every pair is scored on its own (eval-mode BatchNorm): one pair alone equals the same pair in the batch.
  EXPECT_NEAR(distance(a.slice(0, 1, 2), b.slice(0, 1, 2))[0].item<double>(), d[1].item<double>(), 1e-6);
  EXPECT_THROW(distance(a, b.slice(1, 0, 100)), c10::Error);
}

TEST(ClassifierPerceptual, GradientsReachTheImagesNotTheClassifier) {
  auto classifier = small_classifier();
  const ClassifierPerceptual distance(classifier, 1, kSide);
  const auto a = images(2).requires_grad_(true), b = images(2);
  distance(a, b).sum().backward();
  ASSERT_TRUE(a.grad().defined());
  EXPECT_GT(a.grad().abs().sum().item<double>(), 0.0);
  for (const auto& p : classifier->parameters()) EXPECT_FALSE(p.grad().defined());
}

// A search asks for the distances to rows of the same targets at every evaluation: the kept activations of the
// targets give what the distance gives on the selected rows, and are recomputed once the targets change.
TEST(ClassifierPerceptual, DistancesToKeptTargetsEqualTheDistance) {
  auto classifier = small_classifier();
  const ClassifierPerceptual distance(classifier, 1, kSide);
  auto targets = images(5);
  const auto rows = torch::tensor(std::vector<std::int64_t>{4, 0, 2});
  for (int round = 0; round < 2; ++round) {  // the second round reads the kept activations
    const auto a = images(3);
    EXPECT_TRUE(torch::allclose(distance.to_targets(a, targets, rows), distance(a, targets.index_select(0, rows)), 1e-6, 1e-7));
  }
  targets.mul_(-1);  // changed in place: its version moves, the activations are recomputed
  const auto a = images(3);
  EXPECT_TRUE(torch::allclose(distance.to_targets(a, targets, rows), distance(a, targets.index_select(0, rows)), 1e-6, 1e-7));
  const auto other = images(5);  // another tensor
  EXPECT_TRUE(torch::allclose(distance.to_targets(a, other, rows), distance(a, other.index_select(0, rows)), 1e-6, 1e-7));
  // Gradients still reach the images through the kept activations.
  const auto z = images(3).requires_grad_(true);
  distance.to_targets(z, other, rows).sum().backward();
  EXPECT_GT(z.grad().abs().sum().item<double>(), 0.0);
}

// In the reconstruction objective it enters as LPIPS does, MSE + 0.2 · d, and the search descends through it.
TEST(ClassifierPerceptual, EntersTheReconstructionLossWithItsWeight) {
  auto classifier = small_classifier();
  const ClassifierPerceptual distance(classifier, 1, kSide);
  torch::manual_seed(4);
  models::DcganGenerator generator(models::DcganOptions{.z_dim = 6, .width = 4, .channels = 1});
  generator->eval();
  const auto queries = images(2), start = torch::randn({2, 6});
  const ReconstructionLoss weighted{.lambda_reg = 0, .perceptual = &distance, .lambda_lpips = 0.2};
  {
    torch::NoGradGuard no_grad;
    const auto generated = generator->forward(start).reshape({2, -1});
    const auto expected = (generated - queries).square().mean(1) + 0.2 * distance(generated, queries);
    const auto value = reconstruction_objective(*generator, queries, weighted)(start, torch::arange(2));
    EXPECT_TRUE(torch::allclose(value, expected, 1e-6, 1e-7));
  }
  const auto first = reconstruct_white_box(*generator, queries, {start}, weighted, {.max_evaluations = 1});
  const auto searched = reconstruct_white_box(*generator, queries, {start}, weighted, {.max_evaluations = 30});
  EXPECT_LT(searched.loss[0], first.loss[0]);  // the gradient flows through the classifier to the latent
}

}  // namespace
}  // namespace ganleaks::attacks
