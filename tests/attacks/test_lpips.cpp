#include "attacks/lpips.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "attacks/reconstruction.h"
#include "core/errors.h"
#include "models/dcgan.h"

namespace ganleaks::attacks {
namespace {

using ::testing::HasSubstr;

// The model files come from tests/attacks/make_lpips_models.py (ctest `lpips_torchscript` sets the folder).
std::filesystem::path model_dir() {
  const char* dir = std::getenv("GANLEAKS_LPIPS_TEST_MODELS");
  return dir ? dir : "";
}

std::string error_of(const std::filesystem::path& file) {
  try {
    Lpips lpips(file, 1, 32);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Lpips, TorchScriptModelGivesOneDistancePerPair) {
  if (model_dir().empty()) GTEST_SKIP() << "run through ctest (lpips_torchscript)";
  const Lpips lpips(model_dir() / "good.pt", 1, 32);
  const auto a = torch::rand({3, 1024}), b = torch::rand({3, 1024});
  const auto d = lpips(a, b);
  ASSERT_EQ(d.sizes(), (std::vector<std::int64_t>{3}));
  EXPECT_TRUE(torch::allclose(d, (a - b).abs().mean(1)));
}

TEST(Lpips, EntersTheWhiteBoxLossAndItsGradient) {
  if (model_dir().empty()) GTEST_SKIP() << "run through ctest (lpips_torchscript)";
  const Lpips lpips(model_dir() / "good.pt", 1, 32);
  torch::manual_seed(0);
  models::DcganGenerator g(models::DcganOptions{.z_dim = 4, .width = 4, .channels = 1});
  const auto queries = torch::rand({2, 1024}) * 2 - 1, start = torch::randn({2, 4});
  const ReconstructionLoss plain{.lambda_reg = 0}, with_lpips{.lambda_reg = 0, .perceptual = &lpips, .lambda_lpips = 2.0};
  const auto a = reconstruct_white_box(*g, queries, {start}, plain, {.max_evaluations = 1});
  const auto b = reconstruct_white_box(*g, queries, {start}, with_lpips, {.max_evaluations = 1});
  torch::NoGradGuard no_grad;
  const auto images = g->forward(start).reshape({2, -1});
  for (int i = 0; i < 2; ++i) {  // one evaluation: the loss at the start
    const double l1 = (images[i] - queries[i]).abs().mean().item<double>();
    EXPECT_NEAR(b.loss[i] - a.loss[i], 2.0 * l1, 1e-6);
  }
  const auto searched = reconstruct_white_box(*g, queries, {start}, with_lpips, {.max_evaluations = 30});
  EXPECT_LT(searched.loss[0], b.loss[0]);  // the gradient flows through the TorchScript model
}

TEST(Lpips, BadModelFilesAreUserErrorsNamingTheFile) {
  if (model_dir().empty()) GTEST_SKIP() << "run through ctest (lpips_torchscript)";
  EXPECT_THAT(error_of(model_dir() / "missing.pt"), HasSubstr("missing.pt: no such file"));
  EXPECT_THAT(error_of(model_dir() / "not_a_model.pt"), HasSubstr("not_a_model.pt: not a loadable TorchScript model"));
  EXPECT_THAT(error_of(model_dir() / "bad_shape.pt"), HasSubstr("the model returned shape [] for 2 image pairs"));
}

}  // namespace
}  // namespace ganleaks::attacks
