#include "train/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

#include "core/interrupt.h"
#include "models/dcgan.h"

namespace ganleaks::train {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ganleaks-test-train-" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  return dir;
}

RunSpec tiny_spec(const std::filesystem::path& dir) {
  RunSpec spec;
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
  const auto ra = train_model(tiny_spec(a), tiny_images());
  const auto rb = train_model(tiny_spec(b), tiny_images());
  EXPECT_EQ(ra.iterations, 6);
  EXPECT_EQ(ra.loss_d.size(), 6u);
  EXPECT_EQ(ra.loss_d, rb.loss_d);
  EXPECT_EQ(ra.loss_g, rb.loss_g);
  expect_same_weights(a, b);
  EXPECT_TRUE(std::filesystem::exists(discriminator_file(a)));
}

TEST(GanTrainer, ResumingFromACheckpointGivesTheUninterruptedWeights) {
  const auto whole = fresh_dir("whole"), resumed = fresh_dir("resumed");
  const auto full = train_model(tiny_spec(whole), tiny_images());
  // Same run, interrupted after its checkpoint at iteration 3: keep only checkpoint.pt, then rerun.
  train_model(tiny_spec(resumed), tiny_images());
  std::filesystem::remove(generator_file(resumed));
  std::filesystem::remove(discriminator_file(resumed));
  ASSERT_TRUE(std::filesystem::exists(resumed / "checkpoint.pt"));
  const auto second = train_model(tiny_spec(resumed), tiny_images());
  EXPECT_EQ(second.resumed_from, 3);
  EXPECT_EQ(second.loss_d, full.loss_d);
  expect_same_weights(whole, resumed);
}

// A signal at iteration 4 (not a checkpoint step): the run checkpoints there, throws Interrupted and writes no
// release; the rerun resumes from iteration 4 and ends with the uninterrupted weights and losses.
TEST(GanTrainer, InterruptedRunCheckpointsAtThatStepAndResumesExactly) {
  const auto whole = fresh_dir("whole-i"), interrupted = fresh_dir("interrupted");
  const auto full = train_model(tiny_spec(whole), tiny_images());
  auto spec = tiny_spec(interrupted);
  int steps = 0;
  spec.interrupt = [&] { return ++steps == 4; };
  EXPECT_THROW(train_model(spec, tiny_images()), Interrupted);
  EXPECT_FALSE(std::filesystem::exists(generator_file(interrupted)));
  const auto second = train_model(tiny_spec(interrupted), tiny_images());
  EXPECT_EQ(second.resumed_from, 4);
  EXPECT_EQ(second.loss_d, full.loss_d);
  expect_same_weights(whole, interrupted);
}

RunSpec tiny_dp_spec(const std::filesystem::path& dir) {
  auto spec = tiny_spec(dir);
  spec.dp = DpTraining{.max_grad_norm = 0.5, .noise_multiplier = 1.2, .sample_rate = 0.4};
  return spec;
}

TEST(GanTrainer, DpSgdRunIsSeededResumesExactlyAndRecordsItsBatches) {
  const auto whole = fresh_dir("dp-whole"), resumed = fresh_dir("dp-resumed"), plain = fresh_dir("dp-plain");
  const auto full = train_model(tiny_dp_spec(whole), tiny_images());
  ASSERT_EQ(full.dp_batch_size.size(), 6u);
  ASSERT_EQ(full.dp_clipped_fraction.size(), 6u);
  // Poisson sampling: the batch varies around qN = 4.8.
  EXPECT_NE(*std::min_element(full.dp_batch_size.begin(), full.dp_batch_size.end()),
            *std::max_element(full.dp_batch_size.begin(), full.dp_batch_size.end()));
  train_model(tiny_dp_spec(resumed), tiny_images());
  std::filesystem::remove(generator_file(resumed));
  std::filesystem::remove(discriminator_file(resumed));
  const auto second = train_model(tiny_dp_spec(resumed), tiny_images());
  EXPECT_EQ(second.resumed_from, 3);
  EXPECT_EQ(second.loss_d, full.loss_d);
  EXPECT_EQ(second.dp_batch_size, full.dp_batch_size);
  expect_same_weights(whole, resumed);
  // DP changes the training.
  train_model(tiny_spec(plain), tiny_images());
  EXPECT_FALSE(torch::equal(load_generator(whole)->parameters()[0], load_generator(plain)->parameters()[0]));
}

TEST(GanTrainer, WganGpTrainsResumesExactlyAndDiffersFromDcgan) {
  auto wgan = [](const std::filesystem::path& dir) {
    auto spec = tiny_spec(dir);
    spec.model.names = {"wgan-gp"};
    spec.train.critic_steps = 2;
    return spec;
  };
  const auto whole = fresh_dir("wgan-whole"), resumed = fresh_dir("wgan-resumed"), plain = fresh_dir("wgan-plain");
  const auto full = train_model(wgan(whole), tiny_images());
  ASSERT_EQ(full.loss_d.size(), 6u);
  for (float l : full.loss_d) EXPECT_TRUE(std::isfinite(l));
  train_model(wgan(resumed), tiny_images());
  std::filesystem::remove(generator_file(resumed));
  std::filesystem::remove(discriminator_file(resumed));
  const auto second = train_model(wgan(resumed), tiny_images());
  EXPECT_EQ(second.resumed_from, 3);
  EXPECT_EQ(second.loss_d, full.loss_d);
  expect_same_weights(whole, resumed);
  train_model(tiny_spec(plain), tiny_images());
  EXPECT_FALSE(torch::equal(load_generator(whole)->parameters()[0], load_generator(plain)->parameters()[0]));
  auto dp = wgan(fresh_dir("wgan-dp"));
  dp.dp = DpTraining{};
  EXPECT_THROW(train_model(dp, tiny_images()), c10::Error);
}

TEST(GanTrainer, DifferentSeedDifferentWeights) {
  const auto a = fresh_dir("seed-a"), b = fresh_dir("seed-b");
  auto spec = tiny_spec(b);
  spec.seed = 12;
  train_model(tiny_spec(a), tiny_images());
  train_model(spec, tiny_images());
  EXPECT_FALSE(torch::equal(load_generator(a)->parameters()[0], load_generator(b)->parameters()[0]));
}

// Every model of the zoo trains through the same loop (its catalog objective), records finite losses,
// and an interrupted run resumes from its checkpoint to the uninterrupted run's weights, bit for bit.
TEST(Trainer, EveryModelTrainsAndResumesExactly) {
  for (const auto& info : models::kModels) {
    SCOPED_TRACE(std::string(info.name));
    const bool images = info.modality == models::Modality::kImages;
    torch::manual_seed(5);
    const auto records = images ? tiny_images() : torch::randint(0, 2, {12, 20}).to(torch::kFloat32);
    auto spec = [&](const std::filesystem::path& dir) {
      auto s = tiny_spec(dir);
      s.model.names = {std::string(info.name)};
      s.train.pretrain_iterations = 2;  // medgan: 2 autoencoder steps, then 6 GAN steps
      if (models::is_diffusion(info.name)) {  // a U-Net GroupNorm can split, a short chain
        s.model.width = 8;
        s.model.diffusion_steps = 20;
        s.model.sampling_steps = 2;
      }
      return s;
    };
    const auto whole = fresh_dir(std::string(info.name) + "-whole"), resumed = fresh_dir(std::string(info.name) + "-resumed");
    const auto full = train_model(spec(whole), records);
    const std::size_t total = info.objective == models::Objective::kMedgan ? 8 : 6;
    ASSERT_EQ(full.loss_g.size(), total);
    for (float l : full.loss_g) EXPECT_TRUE(std::isfinite(l));
    EXPECT_EQ(std::isnan(full.loss_d.back()), !info.discriminator);  // vae, ddpm: one loss

    train_model(spec(resumed), records);
    for (const auto& [name, module] : full.networks.modules()) std::filesystem::remove(resumed / (name + ".pt"));
    const auto second = train_model(spec(resumed), records);
    EXPECT_EQ(second.resumed_from, total == 8 ? 6 : 3);  // the last checkpoint (every 3 iterations)
    EXPECT_EQ(second.loss_g, full.loss_g);
    const auto a = models::load_release(spec(whole).model, records.sizes().slice(1).vec(), whole);
    const auto b = models::load_release(spec(resumed).model, records.sizes().slice(1).vec(), resumed);
    const auto ma = a.modules(), mb = b.modules();
    ASSERT_EQ(ma.size(), mb.size());
    for (std::size_t m = 0; m < ma.size(); ++m) {
      const auto pa = ma[m].second->parameters(), pb = mb[m].second->parameters();
      for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << ma[m].first << " parameter " << i;
      const auto ba = ma[m].second->buffers(), bb = mb[m].second->buffers();
      for (std::size_t i = 0; i < ba.size(); ++i) EXPECT_TRUE(torch::equal(ba[i], bb[i])) << ma[m].first << " buffer " << i;
    }
    // Samples have the data's shape; medgan's, rounded as its users do, are binary records.
    torch::NoGradGuard no_grad;
    const auto samples = a.generator->forward(torch::randn({4, a.generator->z_dim()}));
    auto expected = records.sizes().vec();
    expected[0] = 4;
    EXPECT_EQ(samples.sizes().vec(), expected);
    if (!images) {
      EXPECT_TRUE(samples.gt(0).all().item<bool>() && samples.lt(1).all().item<bool>());
      const auto binary = models::binarise(samples);
      EXPECT_TRUE((binary.eq(0) | binary.eq(1)).all().item<bool>());
    }
  }
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
