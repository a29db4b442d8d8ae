// The DDPM victim's noise-prediction network (models/unet.h, issue #21): shapes, the timestep embedding by hand,
// every sample scored on its own (GroupNorm: no coupling through the batch), gradients reaching every parameter.
#include "models/unet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace ganleaks::models {
namespace {

TEST(Unet, TimestepEmbeddingByHand) {
  const auto e = timestep_embedding(torch::tensor({0, 7}), 8);
  ASSERT_EQ(e.sizes(), (std::vector<std::int64_t>{2, 8}));
  // t = 0: sines 0, cosines 1. t = 7: frequencies 10000^(−i/3), i = 0 .. 3.
  EXPECT_TRUE(torch::equal(e[0], torch::tensor({0.f, 0.f, 0.f, 0.f, 1.f, 1.f, 1.f, 1.f})));
  for (int i = 0; i < 4; ++i) {
    const double f = std::pow(10000.0, -i / 3.0);
    EXPECT_NEAR(e[1][i].item<double>(), std::sin(7 * f), 1e-6);
    EXPECT_NEAR(e[1][4 + i].item<double>(), std::cos(7 * f), 1e-6);
  }
  EXPECT_THROW(timestep_embedding(torch::tensor({1}), 6 + 1), std::invalid_argument);
}

TEST(Unet, PredictsNoiseOfTheInputsShapeSampleBySample) {
  for (const bool attention : {false, true}) {
    torch::manual_seed(21);
    Unet net(UnetOptions{.channels = 1, .width = 8, .multipliers = {1, 2}, .blocks = 1, .attention = attention, .groups = 4});
    net->eval();
    const auto x = torch::randn({3, 1, 32, 32});
    const auto t = torch::tensor({0, 500, 999});
    const auto eps = net->forward(x, t);
    ASSERT_EQ(eps.sizes(), x.sizes());
    for (int i = 0; i < 3; ++i) {
      const auto alone = net->forward(x.narrow(0, i, 1), t.narrow(0, i, 1));
      EXPECT_TRUE(torch::allclose(alone, eps.narrow(0, i, 1), 1e-5, 1e-6)) << "sample " << i << " attention " << attention;
    }
    // The timestep matters.
    EXPECT_FALSE(torch::allclose(net->forward(x.narrow(0, 0, 1), torch::tensor({10})), eps.narrow(0, 0, 1)));
  }
}

TEST(Unet, GradientsReachEveryParameter) {
  torch::manual_seed(22);
  Unet net(UnetOptions{.channels = 1, .width = 8, .multipliers = {1, 2, 2}, .blocks = 2, .attention = true, .groups = 4});
  const auto x = torch::randn({2, 1, 32, 32});
  net->forward(x, torch::tensor({3, 700})).square().mean().backward();
  for (const auto& p : net->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

}  // namespace
}  // namespace ganleaks::models
