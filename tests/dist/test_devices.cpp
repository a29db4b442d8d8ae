// Where tensors live (dist/device.h).
//  - Devices.*: choosing a device, host copies, and DP noise drawn on the host and moved. A GPU-less CI cannot run the
//    jobs on another device: LibTorch's C++ `meta` device has no kernels for much of what a job calls (where,
//    index_select, trace: their meta versions are registered from Python) and Module::to refuses it. So the
//    wrong-device check is at the source, tests/dist/check_device_factories.py: every tensor factory and every
//    copy to the host in src/ says where its tensor lives.
//  - Cuda.*: the pieces of a job on a GPU against the CPU (ctest label `cuda`, run by bench/device-check); they skip,
//    counted, without one.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

#include "attacks/latent_search.h"
#include "attacks/membership.h"
#include "attacks/reconstruction.h"
#include "core/errors.h"
#include "dist/device.h"
#include "metrics/features.h"
#include "metrics/fid.h"
#include "models/classifier.h"
#include "models/dcgan.h"
#include "models/sampling.h"
#include "models/zoo.h"
#include "privacy/dp_sgd.h"
#include "privacy/grad_sample.h"
#include "train/trainer.h"

namespace ganleaks {
namespace {

const at::Device kMeta(at::kMeta);

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ganleaks-test-devices-" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  return dir;
}

at::Tensor tiny_images(std::int64_t n = 12) {
  torch::manual_seed(99);
  return torch::rand({n, 1, 32, 32}) * 2 - 1;
}

train::RunSpec tiny_spec(const std::string& model, const at::Device& device, const std::filesystem::path& dir) {
  train::RunSpec spec;
  spec.model.names = {model};
  spec.model.z_dim = 8;
  spec.model.width = 4;
  spec.train.iterations = 2;
  spec.train.batch_size = 5;
  spec.train.checkpoint_every = 1000;
  spec.train.pretrain_iterations = 1;
  spec.seed = 11;
  spec.run_dir = dir;
  spec.device = device;
  return spec;
}

at::Tensor records_for(const std::string& model) {
  if (model != "medgan") return tiny_images();
  torch::manual_seed(5);
  return (torch::rand({12, 20}) > 0.5).to(torch::kFloat32);
}

bool on(const torch::nn::Module& module, const at::Device& device) {
  for (const auto& p : module.parameters()) {
    if (p.device() != device) return false;
  }
  for (const auto& b : module.buffers()) {
    if (b.device() != device) return false;
  }
  return true;
}

// ---- Devices: what can be checked without a GPU -----------------------------------------------------------------

at::TensorOptions on_meta() { return torch::TensorOptions().device(kMeta); }

TEST(Devices, DpSgdNoiseIsDrawnOnTheHostAndMovedToTheDevice) {
  auto noise = privacy::NoiseSource::seeded(1), reference = privacy::NoiseSource::seeded(1);
  EXPECT_EQ(noise.normal({3, 4}, 1.0, on_meta()).device(), kMeta);
  reference.normal({3, 4}, 1.0, {});
  // The device draw consumed the seeded CPU stream exactly as a CPU draw does: the next draws agree.
  EXPECT_TRUE(torch::equal(noise.normal({5}, 1.0, {}), reference.normal({5}, 1.0, {})));
}

TEST(Devices, ChoosingADevice) {
  EXPECT_EQ(dist::choose_device("cpu", 3), at::Device(at::kCPU));
  if (dist::usable_gpus() > 0) GTEST_SKIP() << "this machine has a GPU: the CPU-only cases do not apply";
  EXPECT_EQ(dist::choose_device("auto", 0), at::Device(at::kCPU));
  EXPECT_THROW(dist::choose_device("cuda", 0), UserError);
}

// ---- Cuda: the GPU against the CPU (skipped without one) ------------------------------------------------------

models::Networks trained_release(const std::string& model, const std::filesystem::path& dir, const at::Device& device) {
  auto spec = tiny_spec(model, at::kCPU, dir);
  train::train_model(spec, records_for(model));
  return models::load_release(spec.model, records_for(model).sizes().slice(1).vec(), dir, device);
}

class Cuda : public testing::Test {
 protected:
  void SetUp() override {
    if (dist::usable_gpus() == 0) GTEST_SKIP() << "no usable GPU";
  }
  const at::Device gpu{at::kCUDA, 0};
};

TEST_F(Cuda, TrainingPlacesEverythingOnTheGpuAndItsReleaseLoadsOnTheCpu) {
  const auto dir = fresh_dir("cuda-train");
  auto spec = tiny_spec("dcgan", gpu, dir);
  spec.train.iterations = 4;
  spec.train.checkpoint_every = 2;
  const auto result = train::train_model(spec, tiny_images());
  for (const auto& [name, module] : result.networks.modules()) EXPECT_TRUE(on(*module, gpu)) << name;
  const auto cpu = models::load_release(spec.model, std::vector<std::int64_t>{1, 32, 32}, dir);
  const auto z = torch::randn({5, 8});
  torch::NoGradGuard no_grad;
  result.networks.generator->eval();
  EXPECT_TRUE(torch::allclose(cpu.generator->forward(z), result.networks.generator->forward(z.to(gpu)).cpu(), 1e-4, 1e-5));
}

TEST_F(Cuda, ACheckpointWrittenOnOneDeviceResumesOnTheOther) {
  for (const auto& [first, second] : {std::pair{gpu, at::Device(at::kCPU)}, std::pair{at::Device(at::kCPU), gpu}}) {
    const auto dir = fresh_dir("cuda-resume-" + first.str());
    auto spec = tiny_spec("dcgan", first, dir);
    spec.train.iterations = 4;
    spec.train.checkpoint_every = 2;
    train::train_model(spec, tiny_images());
    std::filesystem::remove(train::generator_file(dir));
    spec.device = second;
    const auto resumed = train::train_model(spec, tiny_images());
    EXPECT_EQ(resumed.resumed_from, 2) << first << " -> " << second;
    EXPECT_TRUE(on(*resumed.networks.generator, second));
  }
}

TEST_F(Cuda, PerSampleGradientsOnTheGpuEqualTheCpuInFloat64) {
  const auto per_sample = [](const at::Device& device) {
    torch::manual_seed(3);
    models::DcganDiscriminator d(models::DcganOptions{.z_dim = 8, .width = 4, .channels = 1});
    d->to(device, torch::kFloat64);
    const auto layers = privacy::per_sample_layers(*d);
    for (auto* layer : layers) layer->set_capture(true);
    d->forward(tiny_images(6).to(device, torch::kFloat64)).square().sum().backward();
    std::vector<at::Tensor> out;
    for (auto* layer : layers) {
      for (const auto& [param, sample] : layer->grad_samples()) out.push_back(sample.cpu());
    }
    return out;
  };
  const auto cpu = per_sample(at::kCPU), cuda = per_sample(gpu);
  ASSERT_EQ(cpu.size(), cuda.size());
  for (std::size_t i = 0; i < cpu.size(); ++i) EXPECT_TRUE(torch::allclose(cpu[i], cuda[i], 1e-10, 1e-12)) << i;
}

TEST_F(Cuda, SearchesOnTheGpuAgreeWithTheCpu) {
  const auto dir = fresh_dir("cuda-search");
  auto cpu_model = trained_release("dcgan", dir, at::kCPU);
  auto gpu_model = models::load_release(tiny_spec("dcgan", gpu, dir).model, std::vector<std::int64_t>{1, 32, 32}, dir, gpu);
  const auto queries = tiny_images(16).reshape({16, -1});
  const auto search = [&](models::Networks& model, const at::Device& device) {
    const auto chunk = models::generate_chunk(*model.generator, 3, 0, 500);
    return attacks::nearest_in_chunks(queries.to(device), {{0, chunk}}, attacks::Distance::kL2);
  };
  const auto a = search(cpu_model, at::kCPU), b = search(gpu_model, gpu);
  for (std::size_t i = 0; i < a.mse.size(); ++i) EXPECT_NEAR(a.mse[i], b.mse[i], 1e-4 * (1 + a.mse[i])) << i;
  const attacks::ReconstructionLoss loss{.lambda_reg = 0.0};
  const auto start = torch::zeros({16, 8});
  const auto wb_cpu = attacks::reconstruct_white_box(*cpu_model.generator, queries, {start}, loss, {.max_evaluations = 50});
  const auto wb_gpu =
      attacks::reconstruct_white_box(*gpu_model.generator, queries.to(gpu), {start.to(gpu)}, loss, {.max_evaluations = 50});
  for (std::size_t i = 0; i < wb_cpu.loss.size(); ++i) EXPECT_NEAR(wb_cpu.loss[i], wb_gpu.loss[i], 2e-3) << i;
  const auto pbb_cpu = attacks::reconstruct_partial_black_box(*cpu_model.generator, queries, start, loss,
                                                              {.max_iterations = 1, .line_evaluations = 4});
  const auto pbb_gpu = attacks::reconstruct_partial_black_box(*gpu_model.generator, queries.to(gpu), start.to(gpu), loss,
                                                              {.max_iterations = 1, .line_evaluations = 4});
  for (std::size_t i = 0; i < pbb_cpu.loss.size(); ++i) EXPECT_NEAR(pbb_cpu.loss[i], pbb_gpu.loss[i], 2e-3) << i;
  EXPECT_EQ(attacks::realness_scores(gpu_model, queries.to(gpu).reshape({16, 1, 32, 32})).size(), 16u);
}

TEST_F(Cuda, FidFeaturesOnTheGpuAgreeWithTheCpu) {
  std::vector<std::int64_t> labels(200);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 10);
  const auto images = tiny_images(200);
  const auto classifier = models::train_classifier(images, labels, {.width = 4, .feature_dim = 8},
                                                   {.iterations = 5, .batch_size = 20});
  const auto dir = fresh_dir("cuda-fid");
  std::filesystem::create_directories(dir);
  models::save_classifier(classifier, dir / "c.pt");
  const auto on_gpu = models::load_classifier({.width = 4, .feature_dim = 8}, dir / "c.pt", gpu);
  metrics::ClassifierExtractor cpu_features(classifier), gpu_features(on_gpu);
  const auto a = metrics::gaussian_stats(cpu_features.features(images));
  const auto b = metrics::gaussian_stats(gpu_features.features(images.to(gpu)));
  const auto c = metrics::gaussian_stats(cpu_features.features(images.flip({3})));
  const auto d = metrics::gaussian_stats(gpu_features.features(images.flip({3}).to(gpu)));
  EXPECT_NEAR(metrics::frechet_distance(a, c), metrics::frechet_distance(b, d), 1e-4);
}

}  // namespace
}  // namespace ganleaks
