// The diffusion models' membership signals (attacks/diffusion.h, issue #21): each query scored on its own (alone
// equals inside a batch), and each formula against an independent formulation: the denoising loss by hand, SecMI
// in the (y, p) coordinates of the SecMI/PIA reference code (y = x/√ᾱ, p = √(1/ᾱ − 1): a DDIM step is
// y' = y + ε (p' − p)), PIA as the reference's sum of |·|^p over the image divided by its size.
#include "attacks/diffusion.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace ganleaks::attacks {
namespace {

models::Ddpm tiny_model() {
  torch::manual_seed(13);
  models::Ddpm ddpm(models::DdpmOptions{
      .unet = {.channels = 1, .width = 8, .multipliers = {1, 2}, .blocks = 1, .groups = 4}, .steps = 200, .sampling_steps = 10});
  ddpm->eval();
  return ddpm;
}

at::Tensor queries(std::int64_t count) {
  torch::manual_seed(14);
  return torch::rand({count, 1, 32, 32}) * 2 - 1;
}

void expect_near(const std::vector<double>& a, const std::vector<double>& b, double relative) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], relative * std::abs(b[i])) << "query " << i;
}

TEST(DiffusionAttacks, EachQueryAloneScoresAsInsideABatch) {
  auto ddpm = tiny_model();
  const auto x = queries(5);
  torch::manual_seed(15);
  const auto noise = torch::randn({5, 6, 1, 32, 32});
  const std::vector<int> timesteps{10, 100, 150};
  const auto loss = denoising_loss(*ddpm, x, timesteps, noise);
  const auto secmi = secmi_error(*ddpm, x, 40, 10);
  const auto pia = pia_error(*ddpm, x, 50, 4);
  for (const std::int64_t i : {0, 3}) {
    EXPECT_NEAR(denoising_loss(*ddpm, x.narrow(0, i, 1), timesteps, noise.narrow(0, i, 1))[0], loss[i], 1e-5 * loss[i]);
    EXPECT_NEAR(secmi_error(*ddpm, x.narrow(0, i, 1), 40, 10)[0], secmi[i], 1e-4 * secmi[i]);
    EXPECT_NEAR(pia_error(*ddpm, x.narrow(0, i, 1), 50, 4)[0], pia[i], 1e-4 * pia[i]);
  }
}

TEST(DiffusionAttacks, DenoisingLossByHand) {
  auto ddpm = tiny_model();
  const auto x = queries(3);
  torch::manual_seed(16);
  const auto noise = torch::randn({3, 4, 1, 32, 32});  // 2 timesteps × 2 draws
  const std::vector<int> timesteps{20, 120};
  torch::NoGradGuard no_grad;
  auto expected = torch::zeros({3}, torch::kFloat64);
  for (int j = 0; j < 4; ++j) {
    const int t = timesteps[j / 2];
    const double a = ddpm->schedule().alpha_bar(t);
    const auto eps = noise.select(1, j);
    const auto x_t = std::sqrt(a) * x + std::sqrt(1 - a) * eps;
    expected += (eps - ddpm->predict_noise(x_t, t)).pow(2).sum({1, 2, 3}).to(torch::kFloat64) / 1024.0 / 4.0;
  }
  expect_near(denoising_loss(*ddpm, x, timesteps, noise),
              std::vector<double>(expected.data_ptr<double>(), expected.data_ptr<double>() + 3), 1e-5);
}

TEST(DiffusionAttacks, SecmiAsTheReferenceCodeWritesIt) {
  auto ddpm = tiny_model();
  const auto x0 = queries(3);
  const int t_sec = 30, k = 10;
  torch::NoGradGuard no_grad;
  const auto& s = ddpm->schedule();
  const auto y_of = [&](const at::Tensor& x, int t) { return x / std::sqrt(s.alpha_bar(t)); };
  const auto x_of = [&](const at::Tensor& y, int t) { return y * std::sqrt(s.alpha_bar(t)); };
  const auto p_of = [&](int t) { return std::sqrt(1 / s.alpha_bar(t) - 1); };
  const auto step = [&](const at::Tensor& x, int t, int t_next) {
    return x_of(ddpm->predict_noise(x, t) * (p_of(t_next) - p_of(t)) + y_of(x, t), t_next);
  };
  auto x = x0;
  for (int t = 0; t < t_sec; t += k) x = step(x, t, t + k);
  const auto back = step(step(x, t_sec, t_sec + k), t_sec + k, t_sec);
  const auto expected = (back - x).pow(2).sum({1, 2, 3}).to(torch::kFloat64) / 1024.0;
  expect_near(secmi_error(*ddpm, x0, t_sec, k),
              std::vector<double>(expected.data_ptr<double>(), expected.data_ptr<double>() + 3), 1e-4);
  EXPECT_THROW(secmi_error(*ddpm, x0, 35, 10), c10::Error);   // t_SEC not a multiple of k
  EXPECT_THROW(secmi_error(*ddpm, x0, 190, 10), c10::Error);  // t_SEC + k reaches T
}

TEST(DiffusionAttacks, PiaAsTheReferenceCodeWritesIt) {
  auto ddpm = tiny_model();
  const auto x0 = queries(3);
  torch::NoGradGuard no_grad;
  const double a = ddpm->schedule().alpha_bar(60);
  const auto eps0 = ddpm->predict_noise(x0, 0);
  const auto eps_back = ddpm->predict_noise(std::sqrt(a) * x0 + std::sqrt(1 - a) * eps0, 60);
  for (const double p : {2.0, 4.0}) {
    const auto expected = (eps0 - eps_back).abs().pow(p).flatten(1).sum(1).to(torch::kFloat64) / 1024.0;
    expect_near(pia_error(*ddpm, x0, 60, p),
                std::vector<double>(expected.data_ptr<double>(), expected.data_ptr<double>() + 3), 1e-5);
  }
}

}  // namespace
}  // namespace ganleaks::attacks
