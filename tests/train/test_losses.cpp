// WGAN-GP's gradient penalty against hand-computed values on tiny critics.
#include "train/losses.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace ganleaks::train {
namespace {

TEST(GradientPenalty, LinearCriticHasItsWeightAsGradient) {
  // D(x) = w·x + b with w = (3, 4): ∇D = w everywhere, so every row's penalty is (5 − 1)² = 16, and
  // d penalty / dw = 2 (‖w‖ − 1) w / ‖w‖ = (4.8, 6.4) per row.
  const auto w = torch::tensor({3.0, 4.0}, torch::kFloat64).requires_grad_(true);
  const auto b = torch::tensor(0.5, torch::kFloat64);
  const auto critic = [&](const at::Tensor& x) { return x.matmul(w) + b; };
  const auto real = torch::tensor({{1.0, 2.0}, {0.0, -1.0}}, torch::kFloat64);
  const auto fake = torch::tensor({{-3.0, 0.5}, {2.0, 2.0}}, torch::kFloat64);
  const auto penalty = gradient_penalty(critic, real, fake, torch::tensor({0.3, 0.9}, torch::kFloat64));
  EXPECT_TRUE(torch::allclose(penalty, torch::tensor({16.0, 16.0}, torch::kFloat64)));
  penalty.sum().backward();  // the double backward reaches the critic's parameters
  EXPECT_TRUE(torch::allclose(w.grad(), torch::tensor({9.6, 12.8}, torch::kFloat64)));
}

TEST(GradientPenalty, QuadraticCriticAtTheInterpolate) {
  // D(x) = Σ x²: ∇D(x̂) = 2x̂. real (1, 0), fake (0, 1), ε = 0.5: x̂ = (0.5, 0.5), penalty (2·√0.5 − 1)²;
  // ε = 1: x̂ = real, penalty (2 − 1)² = 1.
  const auto critic = [](const at::Tensor& x) { return x.pow(2).sum(1); };
  const auto real = torch::tensor({{1.0, 0.0}, {1.0, 0.0}}, torch::kFloat64);
  const auto fake = torch::tensor({{0.0, 1.0}, {0.0, 1.0}}, torch::kFloat64);
  const auto penalty = gradient_penalty(critic, real, fake, torch::tensor({0.5, 1.0}, torch::kFloat64));
  const double expected = std::pow(2 * std::sqrt(0.5) - 1, 2);
  EXPECT_NEAR(penalty[0].item<double>(), expected, 1e-12);
  EXPECT_NEAR(penalty[1].item<double>(), 1.0, 1e-12);
}

TEST(GradientPenalty, RejectsMismatchedShapes) {
  const auto critic = [](const at::Tensor& x) { return x.sum(1); };
  EXPECT_THROW(gradient_penalty(critic, torch::zeros({2, 3}), torch::zeros({3, 3}), torch::zeros({2})), c10::Error);
}

}  // namespace
}  // namespace ganleaks::train
