// The DDPM victim (models/ddpm.h, issue #21): the weight average, DDIM samples that depend on their latent alone,
// and, on a tiny DDPM trained through the project's loop on 8 Fashion-MNIST images, that deterministic DDIM
// inversion followed by generation returns the images, and that the model memorises: its samples lie nearer to
// the training images than to as many hold-out images.
#include "models/ddpm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>
#include <numeric>

#include "data/config.h"
#include "data/pool.h"
#include "models/zoo.h"
#include "train/trainer.h"

namespace ganleaks::models {
namespace {

DdpmOptions tiny_options() {
  return {.unet = {.channels = 1, .width = 8, .multipliers = {1, 2}, .blocks = 1, .groups = 4},
          .steps = 20,
          .sampling_steps = 5};
}

TEST(Ddpm, AverageFollowsTheTrainedWeights) {
  torch::manual_seed(3);
  Ddpm ddpm(tiny_options());
  Unet trained(tiny_options().unet);
  const auto before = ddpm->parameters()[0].clone();
  const auto target = trained->parameters()[0].detach();
  ddpm->update_average(*trained, 0.9);
  EXPECT_TRUE(torch::allclose(ddpm->parameters()[0], 0.9 * before + 0.1 * target, 1e-6, 1e-7));
  ddpm->update_average(*trained, 0.0);
  for (std::size_t i = 0; i < trained->parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(ddpm->parameters()[i], trained->parameters()[i])) << "parameter " << i;
  }
}

TEST(Ddpm, SamplesDependOnTheirLatentAlone) {
  torch::manual_seed(4);
  Ddpm ddpm(tiny_options());
  ddpm->eval();
  torch::NoGradGuard no_grad;
  const auto z = torch::randn({5, ddpm->z_dim()});
  const auto all = ddpm->forward(z);
  ASSERT_EQ(all.sizes(), (std::vector<std::int64_t>{5, 1, 32, 32}));
  EXPECT_LE(all.abs().max().item<double>(), 1.0);
  EXPECT_TRUE(torch::allclose(ddpm->forward(z.narrow(0, 3, 1)), all.narrow(0, 3, 1), 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(ddpm->forward(z), all));  // deterministic (η = 0)
  // DDPM's ancestral sampler: the same draws give the same samples.
  auto a = at::make_generator<at::CPUGeneratorImpl>(7), b = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto x_T = z.view({5, 1, 32, 32});
  EXPECT_TRUE(torch::equal(ddpm->sample_ancestral(x_T, a), ddpm->sample_ancestral(x_T, b)));
  EXPECT_THROW(ddpm->predict_noise(x_T, 20), c10::Error);
}

// One tiny DDPM trained for every test below (600 steps on 8 images; about a minute on 2 cores).
class TrainedDdpm : public ::testing::Test {
 protected:
  static constexpr std::int64_t kImages = 8;

  static void SetUpTestSuite() {
    const auto pool = data::Pool::load(DataConfig{});
    std::vector<std::int64_t> train_rows(kImages), holdout_rows(kImages);
    std::iota(train_rows.begin(), train_rows.end(), 0);
    std::iota(holdout_rows.begin(), holdout_rows.end(), 1000);
    train_ = new at::Tensor(pool.rows(train_rows));
    holdout_ = new at::Tensor(pool.rows(holdout_rows));
    // A folder of this process (libtorch's std::filesystem::remove_all crashes on a non-empty one).
    const auto dir = std::filesystem::temp_directory_path() / ("ganleaks-test-ddpm-" + std::to_string(::getpid()));
    train::RunSpec spec;
    spec.model.names = {"ddpm"};
    spec.model.width = 8;
    spec.model.diffusion_steps = 100;
    spec.model.sampling_steps = 20;
    spec.model.ema_decay = 0.99;
    spec.train.iterations = 600;
    spec.train.batch_size = 8;
    spec.train.lr_g = 2e-3;
    spec.train.beta1 = 0.9;
    spec.train.checkpoint_every = 1'000'000;
    spec.seed = 21;
    spec.run_dir = dir;
    auto result = train::train_model(spec, *train_);
    networks_ = new Networks(std::move(result.networks));
  }
  static void TearDownTestSuite() {
    delete networks_;
    delete train_;
    delete holdout_;
  }
  static DdpmImpl& ddpm() { return dynamic_cast<DdpmImpl&>(*networks_->generator); }

  static Networks* networks_;
  static at::Tensor* train_;
  static at::Tensor* holdout_;
};
Networks* TrainedDdpm::networks_ = nullptr;
at::Tensor* TrainedDdpm::train_ = nullptr;
at::Tensor* TrainedDdpm::holdout_ = nullptr;

TEST_F(TrainedDdpm, DdimInversionThenGenerationReturnsTheImages) {
  torch::NoGradGuard no_grad;
  auto& model = ddpm();
  const auto timesteps = ddim_timesteps(model.options().steps, model.options().sampling_steps);  // descending
  auto x = *train_;
  const at::Tensor unused;
  for (auto t = timesteps.rbegin(); t + 1 != timesteps.rend(); ++t) {
    x = ddim_step(model.schedule(), *t, *(t + 1), x, model.predict_noise(x, *t), 0.0, unused, false);
  }
  const auto back = model.forward(x.flatten(1));
  const double error = (back - *train_).abs().mean().item<double>();
  const double spread = (*train_ - *holdout_).abs().mean().item<double>();  // two different images
  RecordProperty("inversion_mean_abs_error", std::to_string(error));
  EXPECT_LT(error, spread / 4) << "image pairs differ by " << spread;  // measured: 0.085 against 0.45
  // Each image comes back nearer to itself than to any other training image.
  const auto nearest = torch::cdist(back.flatten(1), train_->flatten(1)).argmin(1);
  EXPECT_TRUE(torch::equal(nearest, torch::arange(kImages))) << nearest;
}

TEST_F(TrainedDdpm, SamplesLieNearerToTrainingImagesThanToHoldOut) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(8);
  const auto samples = ddpm().forward(torch::randn({64, ddpm().z_dim()})).flatten(1);
  const auto nearest = [&](const at::Tensor& images) {
    return torch::cdist(samples, images.flatten(1)).amin(1);
  };
  const auto to_train = nearest(*train_), to_holdout = nearest(*holdout_);
  const double closer = to_train.lt(to_holdout).to(torch::kFloat64).mean().item<double>();
  RecordProperty("share_nearer_to_training", std::to_string(closer));
  EXPECT_GT(closer, 0.9);
  EXPECT_LT(to_train.median().item<double>(), to_holdout.median().item<double>());
}

}  // namespace
}  // namespace ganleaks::models
