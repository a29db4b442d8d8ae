// PGGAN: the growth schedule, shapes at every stage, fade-in recomputed by hand from the modules' own
// sub-networks, minibatch standard deviation (batch-coupled in training, per sample in eval), gradients.
#include "models/pggan.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

namespace ganleaks::models {
namespace {
namespace F = torch::nn::functional;

const PgganOptions kOptions{.z_dim = 16, .width = 4, .channels = 3};

torch::Tensor upsample(const torch::Tensor& x, int size) {
  return F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<std::int64_t>{size, size}).mode(torch::kNearest));
}
torch::Tensor avg_pool(const torch::Tensor& x, int factor) {
  return factor == 1 ? x : F::avg_pool2d(x, F::AvgPool2dFuncOptions(factor));
}

TEST(PgganSchedule, PhasesFadeInThenStabilise) {
  const auto expect = [](double fraction, int stage, double alpha) {
    const auto s = pggan_schedule(fraction);
    EXPECT_EQ(s.stage, stage) << "fraction " << fraction;
    EXPECT_NEAR(s.alpha, alpha, 1e-12) << "fraction " << fraction;
  };
  expect(0.0, 0, 1.0);
  expect(0.2, 0, 1.0);
  expect(0.25, 1, 0.0);
  expect(0.3125, 1, 0.5);
  expect(0.375, 1, 1.0);
  expect(0.45, 1, 1.0);
  expect(0.5, 2, 0.0);
  expect(0.8125, 3, 0.5);
  expect(0.9, 3, 1.0);
  expect(1.0, 3, 1.0);
  expect(1.5, 3, 1.0);
  EXPECT_EQ(pggan_schedule(0.5, 2).stage, 1);
  EXPECT_THROW(pggan_schedule(std::nan("")), c10::Error);
}

TEST(Pggan, SetProgressFollowsTheSchedule) {
  PgganGenerator generator(kOptions);
  PgganDiscriminator discriminator(kOptions);
  generator->set_progress(0.3125);
  discriminator->set_progress(0.3125);
  EXPECT_EQ(generator->stage(), 1);
  EXPECT_EQ(discriminator->stage(), 1);
  EXPECT_DOUBLE_EQ(generator->alpha(), 0.5);
  EXPECT_DOUBLE_EQ(discriminator->alpha(), 0.5);
  EXPECT_THROW(generator->set_stage(4, 1.0), c10::Error);
  EXPECT_THROW(discriminator->set_stage(1, 1.5), c10::Error);
}

TEST(EqualizedLayers, ScaleUnitWeightsByHeConstant) {
  torch::manual_seed(0);
  EqualizedConv2d conv(8, 16, 3, 1);
  EXPECT_NEAR(conv->weight.std().item<double>(), 1.0, 0.1);
  EXPECT_EQ(conv->bias.abs().sum().item<double>(), 0.0);
  const auto x = torch::randn({2, 8, 5, 5});
  const auto expected = F::conv2d(x, conv->weight * std::sqrt(2.0 / (8 * 9)), F::Conv2dFuncOptions().padding(1));
  EXPECT_TRUE(torch::allclose(conv->forward(x), expected, 1e-5, 1e-6));

  EqualizedLinear linear(10, 3, 1.0);
  const auto v = torch::randn({4, 10});
  EXPECT_TRUE(torch::allclose(linear->forward(v), F::linear(v, linear->weight / std::sqrt(10.0)), 1e-5, 1e-6));
}

TEST(Pggan, ShapesAtEveryStage) {
  torch::manual_seed(1);
  PgganGenerator generator(kOptions);
  PgganDiscriminator discriminator(kOptions);
  const auto z = torch::randn({4, 16});
  for (int stage = 0; stage < kPgganStages; ++stage) {
    for (double alpha : {0.5, 1.0}) {
      generator->set_stage(stage, alpha);
      discriminator->set_stage(stage, alpha);
      const auto images = generator->forward(z);
      ASSERT_EQ(images.sizes(), (std::vector<std::int64_t>{4, 3, 32, 32})) << "stage " << stage;
      // Constant on 2^(3-s) blocks: pooling to the stage's resolution and upsampling back is the identity.
      const int factor = 8 >> stage;
      EXPECT_TRUE(torch::allclose(upsample(avg_pool(images, factor), 32), images, 1e-5, 1e-6)) << "stage " << stage;
      EXPECT_EQ(discriminator->forward(images).sizes(), (std::vector<std::int64_t>{4})) << "stage " << stage;
    }
  }
  EXPECT_THROW(generator->forward(torch::randn({4, 15})), c10::Error);
  EXPECT_THROW(discriminator->forward(torch::randn({4, 3, 16, 16})), c10::Error);
}

TEST(Pggan, GeneratorFadeInBlendsTheTwoPaths) {
  torch::manual_seed(2);
  PgganGenerator g(kOptions);
  const auto z = torch::randn({3, 16});
  for (int s = 1; s < kPgganStages; ++s) {
    auto h = g->block(0)->forward(z);
    for (int i = 1; i < s; ++i) h = g->block(i)->forward(h);
    const auto high = g->to_rgb(s)->forward(g->block(s)->forward(h));
    const auto low = upsample(g->to_rgb(s - 1)->forward(h), 4 << s);
    for (double a : {0.0, 0.3, 1.0}) {
      g->set_stage(s, a);
      EXPECT_TRUE(torch::allclose(g->forward(z), upsample(a * high + (1 - a) * low, 32), 1e-5, 1e-6))
          << "stage " << s << " alpha " << a;
    }
    g->set_stage(s, 0.0);
    const auto faded_out = g->forward(z);
    g->set_stage(s - 1, 1.0);
    EXPECT_TRUE(torch::allclose(faded_out, g->forward(z), 1e-5, 1e-6)) << "stage " << s;
  }
}

TEST(Pggan, DiscriminatorFadeInBlendsTheTwoPaths) {
  torch::manual_seed(3);
  PgganDiscriminator d(kOptions);
  d->eval();
  const auto x = torch::randn({3, 3, 32, 32});
  for (int s = 1; s < kPgganStages; ++s) {
    const auto xs = avg_pool(x, 8 >> s);
    const auto high = d->block(s)->forward(d->from_rgb(s)->forward(xs));
    const auto low = d->from_rgb(s - 1)->forward(avg_pool(xs, 2));
    for (double a : {0.0, 0.3, 1.0}) {
      auto h = a * high + (1 - a) * low;
      for (int i = s - 1; i >= 1; --i) h = d->block(i)->forward(h);
      d->set_stage(s, a);
      EXPECT_TRUE(torch::allclose(d->forward(x), d->block(0)->forward(h).view({3}), 1e-5, 1e-6))
          << "stage " << s << " alpha " << a;
    }
    d->set_stage(s, 0.0);
    const auto faded_out = d->forward(x);
    d->set_stage(s - 1, 1.0);
    EXPECT_TRUE(torch::allclose(faded_out, d->forward(x), 1e-4, 1e-5)) << "stage " << s;
  }
}

TEST(MinibatchStddev, GroupsOfTheLargestDivisorUpToFour) {
  MinibatchStddev mbstd;
  // B = 6: groups of 3, samples {0, 2, 4} and {1, 3, 5}.
  const auto x = torch::tensor({0.0f, 0.0f, 3.0f, 0.0f, 6.0f, 0.0f}).view({6, 1, 1, 1});
  const auto y = mbstd->forward(x);
  ASSERT_EQ(y.sizes(), (std::vector<std::int64_t>{6, 2, 1, 1}));
  const double spread = std::sqrt(6.0 + 1e-8), flat = std::sqrt(1e-8);  // population variance of {0, 3, 6} = 6
  const auto expected = torch::tensor({spread, flat, spread, flat, spread, flat}, torch::kFloat32);
  EXPECT_TRUE(torch::allclose(y.select(1, 1).flatten(), expected));
  EXPECT_TRUE(torch::equal(y.select(1, 0), x.select(1, 0)));
  EXPECT_NEAR(mbstd->running_stat.item<double>(), 0.1 * (spread + flat) / 2, 1e-6);

  mbstd->eval();  // the running statistic for every sample
  EXPECT_TRUE(torch::allclose(mbstd->forward(x).select(1, 1).flatten(), torch::full({6}, 0.1 * (spread + flat) / 2)));
}

TEST(Pggan, DiscriminatorCouplesSamplesInTrainingOnly) {
  torch::manual_seed(4);
  PgganDiscriminator d(kOptions);
  const auto x = torch::randn({4, 3, 32, 32});
  const auto others = torch::randn({3, 3, 32, 32});
  const auto with_others = torch::cat({x.slice(0, 0, 1), others});

  // Training: sample 0's score moves with the rest of its group.
  const double in_x = d->forward(x)[0].item<double>();
  EXPECT_GT(std::abs(in_x - d->forward(with_others)[0].item<double>()), 1e-6);
  for (int i = 0; i < 5; ++i) d->forward(torch::randn({4, 3, 32, 32}));
  EXPECT_GT(d->block(0)[0]->as<MinibatchStddevImpl>()->running_stat.item<double>(), 0.0);

  // Eval: each sample on its own, alone or in any batch.
  d->eval();
  const auto scores = d->forward(x);
  EXPECT_NEAR(d->forward(with_others)[0].item<double>(), scores[0].item<double>(), 1e-5);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(d->forward(x.slice(0, i, i + 1)).item<double>(), scores[i].item<double>(), 1e-5);
  }
}

// At stage s mid fade-in every layer but the fromRGB / toRGB of stages below s - 1 is in use.
bool used_mid_fade(const std::string& name, int stage) {
  for (int s = 0; s < stage - 1; ++s) {
    if (name.starts_with("from_rgb" + std::to_string(s) + ".") || name.starts_with("to_rgb" + std::to_string(s) + ".")) {
      return false;
    }
  }
  return true;
}

TEST(Pggan, DiscriminatorGradientsReachEveryLayerInUse) {
  torch::manual_seed(5);
  PgganDiscriminator d(kOptions);
  d->set_stage(kPgganStages - 1, 0.5);
  // WGAN-GP's penalty differentiates D's input gradient again (double backward through the whole network).
  const auto x = torch::randn({4, 3, 32, 32}).requires_grad_(true);
  const auto scores = d->forward(x);
  const auto grad = torch::autograd::grad({scores.sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  (scores.mean() + (grad.flatten(1).norm(2, 1) - 1).pow(2).mean() + 0.001 * scores.pow(2).mean()).backward();
  for (const auto& p : d->named_parameters()) {
    if (!used_mid_fade(p.key(), kPgganStages - 1)) {
      EXPECT_FALSE(p.value().grad().defined()) << p.key();
      continue;
    }
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(Pggan, GeneratorGradientsReachEveryLayerInUse) {
  torch::manual_seed(6);
  PgganGenerator g(kOptions);
  g->set_stage(kPgganStages - 1, 0.5);
  g->forward(torch::randn({4, 16})).pow(2).mean().backward();
  for (const auto& p : g->named_parameters()) {
    EXPECT_EQ(p.value().grad().defined(), used_mid_fade(p.key(), kPgganStages - 1)) << p.key();
  }
}

}  // namespace
}  // namespace ganleaks::models
