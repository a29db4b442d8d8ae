// Per-sample gradients against a per-sample-backward loop (float64), clipping, noise statistics, Poisson
// sampling: the acceptance checks of SPEC §2 for the DP-SGD step.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "models/dcgan.h"
#include "privacy/dp_sgd.h"
#include "privacy/grad_sample.h"

namespace ganleaks::privacy {
namespace {

// A per-sample loss that is not linear in the output, so that the output gradient differs per sample.
torch::Tensor row_losses(const torch::Tensor& y) {
  const auto rows = y.dim() == 1 ? y.unsqueeze(1) : y.flatten(1);
  return (rows * 0.7).tanh().pow(2).sum(1) + rows.sum(1);
}

// For every sample, the gradient of its own loss by a separate backward (capture off): the exact reference.
std::vector<std::vector<torch::Tensor>> loop_gradients(torch::nn::Module& module,
                                                       const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                                       const torch::Tensor& x) {
  std::vector<std::vector<torch::Tensor>> out;
  for (std::int64_t i = 0; i < x.size(0); ++i) {
    module.zero_grad();
    row_losses(forward(x.slice(0, i, i + 1))).sum().backward();
    std::vector<torch::Tensor> grads;
    for (auto* layer : per_sample_layers(module)) {
      for (auto& [param, sample] : layer->grad_samples()) grads.push_back(param.grad().clone());
    }
    out.push_back(grads);
  }
  return out;
}

double max_per_sample_error(torch::nn::Module& module, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                            const torch::Tensor& x) {
  const auto reference = loop_gradients(module, forward, x);
  const auto layers = per_sample_layers(module);
  for (auto* layer : layers) layer->set_capture(true);
  module.zero_grad();
  row_losses(forward(x)).sum().backward();
  for (auto* layer : layers) layer->set_capture(false);
  double worst = 0;
  std::size_t p = 0;
  for (auto* layer : layers) {
    for (auto& [param, sample] : layer->grad_samples()) {
      EXPECT_EQ(sample.size(0), x.size(0));
      for (std::int64_t i = 0; i < x.size(0); ++i) {
        worst = std::max(worst, (sample[i] - reference[i][p]).abs().max().item<double>());
      }
      // The summed gradient the layer hands to autograd is the ordinary one.
      worst = std::max(worst, (param.grad() - sample.sum(0)).abs().max().item<double>());
      ++p;
    }
    layer->clear_grad_samples();
  }
  EXPECT_EQ(p, reference.front().size());
  return worst;
}

TEST(GradSample, Conv2dEqualsPerSampleLoop) {
  torch::manual_seed(1);
  PerSampleConv2d conv(torch::nn::Conv2dOptions(3, 4, 4).stride(2).padding(1));
  conv->to(torch::kFloat64);
  const auto x = torch::randn({5, 3, 10, 10}, torch::kFloat64);
  EXPECT_LE(max_per_sample_error(*conv, [&](const torch::Tensor& in) { return conv->forward(in); }, x), 1e-6);
  PerSampleConv2d no_bias(torch::nn::Conv2dOptions(3, 2, 3).stride(1).padding(0).bias(false));
  no_bias->to(torch::kFloat64);
  EXPECT_LE(max_per_sample_error(*no_bias, [&](const torch::Tensor& in) { return no_bias->forward(in); }, x), 1e-6);
}

TEST(GradSample, LinearEqualsPerSampleLoopFor2dAnd3dInputs) {
  torch::manual_seed(2);
  PerSampleLinear linear(torch::nn::LinearOptions(6, 3));
  linear->to(torch::kFloat64);
  const auto forward = [&](const torch::Tensor& in) { return linear->forward(in); };
  EXPECT_LE(max_per_sample_error(*linear, forward, torch::randn({7, 6}, torch::kFloat64)), 1e-6);
  EXPECT_LE(max_per_sample_error(*linear, forward, torch::randn({4, 5, 6}, torch::kFloat64)), 1e-6);
}

TEST(GradSample, WholeDiscriminatorEqualsPerSampleLoop) {
  torch::manual_seed(3);
  models::DcganDiscriminator d(models::DcganOptions{.z_dim = 8, .width = 4, .channels = 1});
  d->to(torch::kFloat64);
  const auto x = torch::randn({6, 1, 32, 32}, torch::kFloat64);
  EXPECT_LE(max_per_sample_error(*d, [&](const torch::Tensor& in) { return d->forward(in); }, x), 1e-6);
}

TEST(GradSample, CaptureOffIsLibTorchsConv2d) {
  const auto options = torch::nn::Conv2dOptions(2, 3, 4).stride(2).padding(1);
  torch::manual_seed(4);
  torch::nn::Conv2d reference(options);
  torch::manual_seed(4);
  PerSampleConv2d ours(options);
  EXPECT_TRUE(torch::equal(reference->weight, ours->weight));
  EXPECT_TRUE(torch::equal(reference->bias, ours->bias));
  const auto x = torch::randn({3, 2, 8, 8});
  EXPECT_TRUE(torch::equal(reference->forward(x), ours->forward(x)));
}

TEST(GradSample, EmptyBatchGivesEmptySamples) {
  PerSampleConv2d conv(torch::nn::Conv2dOptions(1, 2, 4).stride(2).padding(1));
  conv->set_capture(true);
  row_losses(conv->forward(torch::zeros({0, 1, 8, 8}))).sum().backward();
  for (auto& [param, sample] : conv->grad_samples()) EXPECT_EQ(sample.size(0), 0);
  // A rank with no rows still takes part: zero sums (plus noise where it is the noising rank).
  auto noise = NoiseSource::seeded(3);
  int reductions = 0;
  const auto stats = dp_sgd_gradients(per_sample_layers(*conv), {1.0, 1.0, 4.0}, noise, false,
                                      [&](std::vector<at::Tensor>& sums) {
                                        ++reductions;
                                        for (auto& s : sums) EXPECT_EQ(s.abs().max().item<float>(), 0.0f);
                                      });
  EXPECT_EQ(reductions, 1);
  EXPECT_EQ(stats.samples, 0);
}

// Runs one captured backward of `linear` on x and returns the DP-SGD gradient of its weight.
torch::Tensor dp_gradient(PerSampleLinear& linear, const torch::Tensor& x, const DpSgdStep& step, NoiseSource& noise,
                          DpSgdStats* stats = nullptr) {
  linear->set_capture(true);
  row_losses(linear->forward(x)).sum().backward();
  linear->set_capture(false);
  const auto s = dp_sgd_gradients(per_sample_layers(*linear), step, noise, true, [](std::vector<at::Tensor>&) {});
  if (stats) *stats = s;
  return linear->weight.grad().clone();
}

TEST(DpSgd, ClipsEachSampleToTheNormAcrossAllParameters) {
  torch::manual_seed(5);
  PerSampleLinear linear(torch::nn::LinearOptions(20, 10));
  linear->to(torch::kFloat64);
  const auto x = torch::randn({8, 20}, torch::kFloat64) * 5;
  const double c = 0.3;
  auto noise = NoiseSource::seeded(1);
  DpSgdStats stats;
  const auto weight_grad = dp_gradient(linear, x, {.max_grad_norm = c, .noise_multiplier = 0, .expected_batch_size = 4},
                                       noise, &stats);
  const auto bias_grad = linear->bias.grad().clone();
  // Reference: per sample, flatten (weight, bias), clip to c, sum, divide by the expected batch size.
  auto ref_w = torch::zeros_like(linear->weight), ref_b = torch::zeros_like(linear->bias);
  for (std::int64_t i = 0; i < x.size(0); ++i) {
    linear->zero_grad();
    row_losses(linear->forward(x.slice(0, i, i + 1))).sum().backward();
    const double norm = std::sqrt(linear->weight.grad().pow(2).sum().item<double>() +
                                  linear->bias.grad().pow(2).sum().item<double>());
    const double factor = std::min(1.0, c / norm);
    EXPECT_LE(factor * norm, c * (1 + 1e-9));  // the clipped norm
    ref_w += factor * linear->weight.grad();
    ref_b += factor * linear->bias.grad();
  }
  EXPECT_LE((weight_grad - ref_w / 4).abs().max().item<double>(), 1e-6 * c);
  EXPECT_LE((bias_grad - ref_b / 4).abs().max().item<double>(), 1e-6 * c);
  EXPECT_EQ(stats.samples, 8);
  EXPECT_DOUBLE_EQ(stats.clipped_fraction, 1.0);  // inputs ×5: every sample is above 0.3
}

// The noise is the difference of a noisy and a noise-free step on the same samples.
void expect_noise_variance(NoiseSource noisy) {
  torch::manual_seed(6);
  PerSampleLinear linear(torch::nn::LinearOptions(100, 200).bias(false));
  const auto x = torch::randn({3, 100});
  const double sigma = 1.5, c = 0.4;
  auto silent = NoiseSource::seeded(0);
  const auto clean = dp_gradient(linear, x, {c, 0.0, 1.0}, silent);
  const auto noise = (dp_gradient(linear, x, {c, sigma, 1.0}, noisy) - clean).to(torch::kFloat64);
  const double n = static_cast<double>(noise.numel());  // 20 000 coordinates
  const double mean = noise.mean().item<double>(), var = noise.var().item<double>();
  const double expected = sigma * sigma * c * c;
  // Sample variance has relative standard deviation sqrt(2/n) = 1 %: allow 5 of them.
  EXPECT_NEAR(var / expected, 1.0, 5 * std::sqrt(2 / n));
  EXPECT_NEAR(mean, 0.0, 5 * std::sqrt(expected / n));
}

TEST(DpSgd, NoiseHasVarianceSigmaSquaredCSquared) { expect_noise_variance(NoiseSource::seeded(7)); }
TEST(DpSgd, SecureNoiseHasVarianceSigmaSquaredCSquared) { expect_noise_variance(NoiseSource::secure()); }

TEST(DpSgd, OnlyTheNoisingRankAddsNoiseAndTheReductionSeesTheSums) {
  torch::manual_seed(8);
  PerSampleLinear linear(torch::nn::LinearOptions(4, 2));
  linear->set_capture(true);
  row_losses(linear->forward(torch::randn({3, 4}))).sum().backward();
  auto noise = NoiseSource::seeded(1);
  int reductions = 0;
  dp_sgd_gradients(per_sample_layers(*linear), {1.0, 100.0, 1.0}, noise, /*adds_noise=*/false,
                   [&](std::vector<at::Tensor>& sums) {
                     ++reductions;
                     EXPECT_EQ(sums.size(), 2u);  // weight and bias, fused in one call
                     for (auto& s : sums) EXPECT_LT(s.abs().max().item<double>(), 3.0 + 1e-6);  // ≤ 3 samples × C
                   });
  EXPECT_EQ(reductions, 1);
}

TEST(DpSgd, RefusesModulesWithParametersOutsidePerSampleLayers) {
  models::DcganGenerator g(models::DcganOptions{.z_dim = 8, .width = 4, .channels = 1});
  EXPECT_THROW(check_dp_compatible(*g, "generator"), std::invalid_argument);
  models::DcganDiscriminator d(models::DcganOptions{.z_dim = 8, .width = 4, .channels = 1});
  EXPECT_NO_THROW(check_dp_compatible(*d, "discriminator"));
}

// One captured backward of `module` on x under `clipping`, then the DP-SGD step (noise from `seed`); returns
// every per-sample layer's squared norms (before the step) and every parameter's resulting .grad.
struct CapturedStep {
  std::vector<torch::Tensor> squared_norms, grads;
  std::vector<bool> materialised;  // per layer: whether it kept per-sample gradients
};
CapturedStep captured_step(torch::nn::Module& module, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                           const torch::Tensor& x, Clipping clipping, const DpSgdStep& step, std::uint64_t seed) {
  const auto layers = per_sample_layers(module);
  for (auto* layer : layers) layer->set_capture(true, clipping);
  module.zero_grad();
  row_losses(forward(x)).sum().backward();
  for (auto* layer : layers) layer->set_capture(false);
  CapturedStep out;
  for (auto* layer : layers) {
    out.materialised.push_back(layer->grad_samples().front().second.defined());
    out.squared_norms.push_back(layer->squared_norms().clone());
  }
  auto noise = NoiseSource::seeded(seed);
  dp_sgd_gradients(layers, step, noise, true, [](std::vector<at::Tensor>&) {});
  for (auto* layer : layers) {
    for (const auto& param : layer->per_sample_parameters()) out.grads.push_back(param.grad().clone());
  }
  return out;
}

// Book-keeping and ghost clipping against materialising (float64): the same norms per layer and the same DP-SGD
// gradient, noise included, to 1e-10. `ghost_layers` says which layers must take the ghost norm (the others
// book-keeping keeps materialised, and ghost clipping materialises a block at a time and keeps only norms), so
// that every path is the one tested.
void expect_norm_modes_give_the_materialised_step(torch::nn::Module& module,
                                                  const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                                  const torch::Tensor& x, double max_grad_norm,
                                                  const std::vector<bool>& ghost_layers) {
  const DpSgdStep step{.max_grad_norm = max_grad_norm, .noise_multiplier = 0.7, .expected_batch_size = 3};
  const auto materialised = captured_step(module, forward, x, Clipping::kMaterialise, step, 11);
  EXPECT_EQ(materialised.materialised, std::vector<bool>(ghost_layers.size(), true));
  for (const auto clipping : {Clipping::kBookKeeping, Clipping::kGhost}) {
    SCOPED_TRACE(kClippingNames[static_cast<std::size_t>(clipping)]);
    const auto other = captured_step(module, forward, x, clipping, step, 11);
    std::vector<bool> expected_materialised;
    for (const bool ghost : ghost_layers) expected_materialised.push_back(clipping == Clipping::kBookKeeping && !ghost);
    EXPECT_EQ(other.materialised, expected_materialised);
    ASSERT_EQ(materialised.squared_norms.size(), other.squared_norms.size());
    for (std::size_t i = 0; i < materialised.squared_norms.size(); ++i) {
      const auto& m = materialised.squared_norms[i];
      EXPECT_LE(((other.squared_norms[i] - m).abs() / m.clamp_min(1e-30)).max().item<double>(), 1e-10) << "layer " << i;
    }
    ASSERT_EQ(materialised.grads.size(), other.grads.size());
    for (std::size_t i = 0; i < materialised.grads.size(); ++i) {
      EXPECT_LE((other.grads[i] - materialised.grads[i]).abs().max().item<double>(), 1e-10) << "parameter " << i;
    }
  }
}

TEST(ClippingModes, Conv2dGivesTheMaterialisedStepByGhostNormAndByMaterialising) {
  torch::manual_seed(12);
  const auto x = torch::randn({5, 3, 10, 10}, torch::kFloat64);
  // 5 × 5 output positions of 3·4·4 patches into 4 channels: materialising is cheaper (25 · 52 > 48 · 4).
  PerSampleConv2d wide(torch::nn::Conv2dOptions(3, 4, 4).stride(2).padding(1));
  // A 1 × 1 output of 3·10·10 patches into 6 channels, no bias: the ghost norm is cheaper.
  PerSampleConv2d whole(torch::nn::Conv2dOptions(3, 6, 10).stride(1).padding(0).bias(false));
  for (auto* conv : {&wide, &whole}) {
    (*conv)->to(torch::kFloat64);
    for (const double c : {0.05, 100.0}) {  // every row clipped; none
      expect_norm_modes_give_the_materialised_step(**conv, [&](const torch::Tensor& in) { return (*conv)->forward(in); },
                                                   x, c, {conv == &whole});
    }
  }
}

TEST(ClippingModes, LinearGivesTheMaterialisedStepFor2dAnd3dInputs) {
  torch::manual_seed(13);
  PerSampleLinear linear(torch::nn::LinearOptions(6, 3));
  linear->to(torch::kFloat64);
  const auto forward = [&](const torch::Tensor& in) { return linear->forward(in); };
  // One position: the ghost norm ‖g‖²‖x‖²; 5 positions of 6 -> 3 features: materialised.
  expect_norm_modes_give_the_materialised_step(*linear, forward, torch::randn({7, 6}, torch::kFloat64), 0.5, {true});
  expect_norm_modes_give_the_materialised_step(*linear, forward, torch::randn({4, 5, 6}, torch::kFloat64), 0.5, {false});
}

TEST(ClippingModes, WholeDiscriminatorGivesTheMaterialisedStep) {
  torch::manual_seed(14);
  // Width 16, as the demo's: the third convolution (16 positions of 32·4·4 patches into 64 channels) takes the
  // ghost norm, the others materialise (the last has one output channel: its ghost norm would cost more).
  // 20 rows: the second convolution's patches come in two blocks (16 rows of 64 positions × 16·4·4, then 4).
  models::DcganDiscriminator d(models::DcganOptions{.z_dim = 8, .width = 16, .channels = 1});
  d->to(torch::kFloat64);
  const auto x = torch::randn({20, 1, 32, 32}, torch::kFloat64);
  const auto forward = [&](const torch::Tensor& in) { return d->forward(in); };
  for (const double c : {0.05, 1.0, 1e3}) {
    expect_norm_modes_give_the_materialised_step(*d, forward, x, c, {false, false, true, false});
  }
}

class NormOnlyModes : public ::testing::TestWithParam<Clipping> {};

TEST_P(NormOnlyModes, EmptyBatchGivesZeroSumsAndTwoBackwardsAreRefused) {
  PerSampleConv2d conv(torch::nn::Conv2dOptions(1, 2, 4).stride(2).padding(1));
  PerSampleLinear linear(torch::nn::LinearOptions(3, 2));
  conv->set_capture(true, GetParam());
  linear->set_capture(true, GetParam());
  row_losses(conv->forward(torch::zeros({0, 1, 8, 8}))).sum().backward();
  row_losses(linear->forward(torch::zeros({0, 3}))).sum().backward();
  for (PerSampleLayer* layer : {static_cast<PerSampleLayer*>(conv.get()), static_cast<PerSampleLayer*>(linear.get())}) {
    EXPECT_EQ(layer->squared_norms().size(0), 0);
    auto noise = NoiseSource::seeded(3);
    dp_sgd_gradients({layer}, {1.0, 1.0, 4.0}, noise, false, [&](std::vector<at::Tensor>& sums) {
      for (auto& s : sums) EXPECT_EQ(s.abs().max().item<float>(), 0.0f);
    });
  }
  // A layer used twice in one step: the cross terms of the norms are not kept, so both modes refuse.
  const auto x = torch::randn({2, 3});
  EXPECT_THROW(row_losses(linear->forward(x) + linear->forward(x)).sum().backward(), std::exception);
}
INSTANTIATE_TEST_SUITE_P(BookKeepingAndGhost, NormOnlyModes, ::testing::Values(Clipping::kBookKeeping, Clipping::kGhost));

TEST(PoissonSampler, RateIsRespectedAndStateRestores) {
  PoissonSampler sampler(1000, 0.05, 42);
  double total = 0;
  for (int step = 0; step < 200; ++step) total += static_cast<double>(sampler.next().size());
  // Mean batch 50, standard error sqrt(1000·0.05·0.95/200) ≈ 0.49.
  EXPECT_NEAR(total / 200, 50.0, 2.5);
  const auto saved = sampler.state();
  const auto a = sampler.next();
  PoissonSampler other(1000, 0.05, 1);
  other.restore(saved);
  EXPECT_EQ(other.next(), a);
  EXPECT_THROW(PoissonSampler(10, 0.0, 1), std::invalid_argument);
}

}  // namespace
}  // namespace ganleaks::privacy
