#include "train/gan_trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

#include "models/dcgan.h"

namespace ganleaks::train {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ganleaks-test-train-" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  return dir;
}

GanRunSpec tiny_spec(const std::filesystem::path& dir) {
  GanRunSpec spec;
  spec.model.z_dim = 8;
  spec.model.width = 4;
  spec.train.iterations = 6;
  spec.train.batch_size = 5;
  spec.train.checkpoint_every = 3;
  spec.seed = 11;
  spec.run_dir = dir;
  return spec;
}

at::Tensor tiny_images() {
  torch::manual_seed(99);
  return torch::rand({12, 1, 32, 32}) * 2 - 1;
}

models::DcganGenerator load_generator(const std::filesystem::path& dir) {
  models::DcganGenerator g(models::DcganOptions{.z_dim = 8, .width = 4, .channels = 1});
  torch::load(g, generator_file(dir).string());
  return g;
}

void expect_same_weights(const std::filesystem::path& a, const std::filesystem::path& b) {
  const auto ga = load_generator(a), gb = load_generator(b);
  const auto pa = ga->parameters(), pb = gb->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
  const auto ba = ga->buffers(), bb = gb->buffers();
  for (std::size_t i = 0; i < ba.size(); ++i) EXPECT_TRUE(torch::equal(ba[i], bb[i])) << "buffer " << i;
}

TEST(GanTrainer, SameSeedSameWeightsAndLossesRecorded) {
  const auto a = fresh_dir("a"), b = fresh_dir("b");
  const auto ra = train_gan(tiny_spec(a), tiny_images());
  const auto rb = train_gan(tiny_spec(b), tiny_images());
  EXPECT_EQ(ra.iterations, 6);
  EXPECT_EQ(ra.loss_d.size(), 6u);
  EXPECT_EQ(ra.loss_d, rb.loss_d);
  EXPECT_EQ(ra.loss_g, rb.loss_g);
  expect_same_weights(a, b);
  EXPECT_TRUE(std::filesystem::exists(discriminator_file(a)));
}

TEST(GanTrainer, ResumingFromACheckpointGivesTheUninterruptedWeights) {
  const auto whole = fresh_dir("whole"), resumed = fresh_dir("resumed");
  const auto full = train_gan(tiny_spec(whole), tiny_images());
  // Same run, interrupted after its checkpoint at iteration 3: keep only checkpoint.pt, then rerun.
  train_gan(tiny_spec(resumed), tiny_images());
  std::filesystem::remove(generator_file(resumed));
  std::filesystem::remove(discriminator_file(resumed));
  ASSERT_TRUE(std::filesystem::exists(resumed / "checkpoint.pt"));
  const auto second = train_gan(tiny_spec(resumed), tiny_images());
  EXPECT_EQ(second.resumed_from, 3);
  EXPECT_EQ(second.loss_d, full.loss_d);
  expect_same_weights(whole, resumed);
}

GanRunSpec tiny_dp_spec(const std::filesystem::path& dir) {
  auto spec = tiny_spec(dir);
  spec.dp = DpTraining{.max_grad_norm = 0.5, .noise_multiplier = 1.2, .sample_rate = 0.4};
  return spec;
}

TEST(GanTrainer, DpSgdRunIsSeededResumesExactlyAndRecordsItsBatches) {
  const auto whole = fresh_dir("dp-whole"), resumed = fresh_dir("dp-resumed"), plain = fresh_dir("dp-plain");
  const auto full = train_gan(tiny_dp_spec(whole), tiny_images());
  ASSERT_EQ(full.dp_batch_size.size(), 6u);
  ASSERT_EQ(full.dp_clipped_fraction.size(), 6u);
  // Poisson sampling: the batch varies around qN = 4.8.
  EXPECT_NE(*std::min_element(full.dp_batch_size.begin(), full.dp_batch_size.end()),
            *std::max_element(full.dp_batch_size.begin(), full.dp_batch_size.end()));
  train_gan(tiny_dp_spec(resumed), tiny_images());
  std::filesystem::remove(generator_file(resumed));
  std::filesystem::remove(discriminator_file(resumed));
  const auto second = train_gan(tiny_dp_spec(resumed), tiny_images());
  EXPECT_EQ(second.resumed_from, 3);
  EXPECT_EQ(second.loss_d, full.loss_d);
  EXPECT_EQ(second.dp_batch_size, full.dp_batch_size);
  expect_same_weights(whole, resumed);
  // DP changes the training.
  train_gan(tiny_spec(plain), tiny_images());
  EXPECT_FALSE(torch::equal(load_generator(whole)->parameters()[0], load_generator(plain)->parameters()[0]));
}

TEST(GanTrainer, WganGpTrainsResumesExactlyAndDiffersFromDcgan) {
  auto wgan = [](const std::filesystem::path& dir) {
    auto spec = tiny_spec(dir);
    spec.model.name = "wgan-gp";
    spec.train.critic_steps = 2;
    return spec;
  };
  const auto whole = fresh_dir("wgan-whole"), resumed = fresh_dir("wgan-resumed"), plain = fresh_dir("wgan-plain");
  const auto full = train_gan(wgan(whole), tiny_images());
  ASSERT_EQ(full.loss_d.size(), 6u);
  for (float l : full.loss_d) EXPECT_TRUE(std::isfinite(l));
  train_gan(wgan(resumed), tiny_images());
  std::filesystem::remove(generator_file(resumed));
  std::filesystem::remove(discriminator_file(resumed));
  const auto second = train_gan(wgan(resumed), tiny_images());
  EXPECT_EQ(second.resumed_from, 3);
  EXPECT_EQ(second.loss_d, full.loss_d);
  expect_same_weights(whole, resumed);
  train_gan(tiny_spec(plain), tiny_images());
  EXPECT_FALSE(torch::equal(load_generator(whole)->parameters()[0], load_generator(plain)->parameters()[0]));
  auto dp = wgan(fresh_dir("wgan-dp"));
  dp.dp = DpTraining{};
  EXPECT_THROW(train_gan(dp, tiny_images()), c10::Error);
}

TEST(GanTrainer, DifferentSeedDifferentWeights) {
  const auto a = fresh_dir("seed-a"), b = fresh_dir("seed-b");
  auto spec = tiny_spec(b);
  spec.seed = 12;
  train_gan(tiny_spec(a), tiny_images());
  train_gan(spec, tiny_images());
  EXPECT_FALSE(torch::equal(load_generator(a)->parameters()[0], load_generator(b)->parameters()[0]));
}

TEST(Dcgan, ForwardShapesAndRange) {
  models::DcganGenerator g(models::DcganOptions{.z_dim = 8, .width = 4, .channels = 1});
  models::DcganDiscriminator d(models::DcganOptions{.z_dim = 8, .width = 4, .channels = 1});
  const auto x = g->forward(torch::randn({3, 8}));
  EXPECT_EQ(x.sizes(), (std::vector<std::int64_t>{3, 1, 32, 32}));
  EXPECT_LE(x.abs().max().item<float>(), 1.0f);
  EXPECT_EQ(d->forward(x).sizes(), (std::vector<std::int64_t>{3}));
  EXPECT_THROW(g->forward(torch::randn({3, 9})), c10::Error);
}

}  // namespace
}  // namespace ganleaks::train
