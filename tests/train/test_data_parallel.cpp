// Data-parallel training on real Open MPI ranks (run under mpiexec -n 1 and -n 2): the fused all-reduce,
// synchronised batch norm, and the acceptance check that W-rank training with the same global batch and
// seed gives the weights of 1-rank training within float tolerance, with and without DP-SGD.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "dist/comm.h"
#include "dist/device.h"
#include "dist/nccl.h"
#include "dist/tensor_comm.h"
#include "metrics/fid.h"
#include "models/batch_norm.h"
#include "models/dcgan.h"
#include "models/zoo.h"
#include "train/trainer.h"

namespace ganleaks {
namespace {

TEST(TensorComm, FusedAllReduceSumsEveryTensorInBuckets) {
  const auto world = dist::Comm::world();
  dist::TensorComm comm(world, /*bucket_bytes=*/64);
  const double r = world.rank(), w = world.size();
  std::vector<at::Tensor> tensors{torch::full({2, 3}, r + 1), torch::full({4}, 2 * r), torch::full({3}, r, torch::kFloat64),
                                  torch::arange(20).to(torch::kFloat) * (r + 1)};
  const int buckets = comm.all_reduce(tensors);
  const double sum_r = w * (w - 1) / 2;
  EXPECT_TRUE(torch::allclose(tensors[0], torch::full({2, 3}, sum_r + w)));
  EXPECT_TRUE(torch::allclose(tensors[1], torch::full({4}, 2 * sum_r)));
  EXPECT_TRUE(torch::allclose(tensors[2], torch::full({3}, sum_r, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(tensors[3], torch::arange(20).to(torch::kFloat) * (sum_r + w)));
  // 64-byte buckets: {24 B + 16 B float}, {24 B double}, {80 B float, alone}.
  EXPECT_EQ(buckets, world.size() == 1 ? 0 : 3);
}

// FID over ranks (SPEC §4): each rank adds its shard's moments, one all-reduce, then the statistics equal
// those of the whole set on one rank (to rounding from the summation order) and the FID is the same.
TEST(Fid, MomentsReducedOverRanksGiveTheWholeSetsFid) {
  const auto world = dist::Comm::world();
  dist::TensorComm comm(world);
  torch::manual_seed(4);
  const auto real = torch::randn({300, 10}, torch::kFloat64);
  const auto fake = torch::randn({260, 10}, torch::kFloat64).mm(torch::randn({10, 10}, torch::kFloat64)) + 0.5;
  const auto reduced = [&](const at::Tensor& all) {
    metrics::FeatureMoments mine;
    mine.add(all.slice(0, world.rank(), all.size(0), world.size()));
    std::vector<at::Tensor> packed{mine.packed()};
    comm.all_reduce(packed);
    return metrics::FeatureMoments::unpacked(packed[0], all.size(1)).stats();
  };
  const auto r = reduced(real), f = reduced(fake);
  EXPECT_EQ(r.count, 300);
  const auto whole_r = metrics::gaussian_stats(real), whole_f = metrics::gaussian_stats(fake);
  EXPECT_TRUE(torch::allclose(r.covariance, whole_r.covariance, 1e-12, 1e-12));
  const double expected = metrics::frechet_distance(whole_r, whole_f);
  EXPECT_NEAR(metrics::frechet_distance(r, f), expected, 1e-10 * expected);
}

TEST(TensorComm, DifferentiableSumHasTheGroupsGradient) {
  const auto world = dist::Comm::world();
  dist::TensorComm comm(world);
  const auto x = torch::full({3}, static_cast<float>(world.rank() + 1), torch::requires_grad());
  const auto y = comm.all_reduce_sum_differentiable(x);
  (y * y).sum().backward();  // every rank's loss depends on every rank's x: d/dx = Σ_ranks 2y = 2yW
  const float total = world.size() * (world.size() + 1) / 2.0f;
  EXPECT_TRUE(torch::allclose(x.grad(), torch::full({3}, 2 * total * world.size())));
}

TEST(SyncBatchNorm, ShardsNormaliseByTheGlobalBatch) {
  const auto world = dist::Comm::world();
  dist::TensorComm comm(world);
  torch::manual_seed(5);
  const auto global = torch::randn({6, 3, 4, 4}, torch::kFloat64) * 2 + 1;
  const auto upstream = torch::randn({6, 3, 4, 4}, torch::kFloat64);
  models::BatchNorm2d whole(3), part(3);
  whole->to(torch::kFloat64);
  part->to(torch::kFloat64);
  models::synchronise_batch_norm(*part, [&](const at::Tensor& t) { return comm.all_reduce_sum_differentiable(t); });
  const auto x_all = global.clone().requires_grad_();
  const auto y_all = whole->forward(x_all);
  (y_all * upstream).sum().backward();
  const auto mine = global.slice(0, world.rank(), 6, world.size()).clone().requires_grad_();
  const auto y = part->forward(mine);
  (y * upstream.slice(0, world.rank(), 6, world.size())).sum().backward();
  const auto expected_y = y_all.detach().slice(0, world.rank(), 6, world.size());
  EXPECT_LE((y - expected_y).abs().max().item<double>(), 1e-10);
  EXPECT_LE((mine.grad() - x_all.grad().slice(0, world.rank(), 6, world.size())).abs().max().item<double>(), 1e-10);
  EXPECT_LE((part->running_var - whole->running_var).abs().max().item<double>(), 1e-10);
  std::vector<at::Tensor> grads{part->weight.grad().clone(), part->bias.grad().clone()};
  comm.all_reduce(grads);  // the parameter gradients are per-rank parts of the whole
  EXPECT_LE((grads[0] - whole->weight.grad()).abs().max().item<double>(), 1e-10);
  EXPECT_LE((grads[1] - whole->bias.grad()).abs().max().item<double>(), 1e-10);
}

std::filesystem::path shared_dir(const dist::Comm& world, const std::string& name) {
  std::vector<std::byte> pid(sizeof(pid_t));
  const pid_t mine = ::getpid();
  std::memcpy(pid.data(), &mine, sizeof mine);
  world.broadcast(pid, 0);
  pid_t root = 0;
  std::memcpy(&root, pid.data(), sizeof root);
  return std::filesystem::temp_directory_path() / ("ganleaks-test-dp-" + std::to_string(root)) / name;
}

train::RunSpec tiny_spec(const std::filesystem::path& dir) {
  train::RunSpec spec;
  spec.model.z_dim = 8;
  spec.model.width = 4;
  spec.train.iterations = 6;
  spec.train.batch_size = 7;  // not a multiple of 2: shards of 4 and 3
  spec.train.checkpoint_every = 100;
  spec.seed = 3;
  spec.run_dir = dir;
  return spec;
}

// Every parameter and buffer of every module of two releases of `model`.
double max_weight_difference(const ModelConfig& model, const std::filesystem::path& a, const std::filesystem::path& b) {
  const std::vector<std::int64_t> shape{1, 32, 32};
  const auto ra = models::load_release(model, shape, a), rb = models::load_release(model, shape, b);
  const auto ma = ra.modules(), mb = rb.modules();
  double worst = 0;
  auto compare = [&](const std::vector<at::Tensor>& x, const std::vector<at::Tensor>& y) {
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, (x[i] - y[i]).abs().max().item<double>());
  };
  for (std::size_t m = 0; m < ma.size(); ++m) {
    compare(ma[m].second->parameters(), mb[m].second->parameters());
    compare(ma[m].second->buffers(), mb[m].second->buffers());
  }
  return worst;
}

// Trains on the whole world as one group, then on rank 0 alone, and compares on rank 0.
void expect_group_matches_single_rank(const std::optional<train::DpTraining>& dp, const std::string& name,
                                      const std::string& model = "dcgan") {
  const auto world = dist::Comm::world();
  dist::TensorComm comm(world);
  torch::manual_seed(99);
  const auto images = torch::rand({20, 1, 32, 32}) * 2 - 1;
  const auto group_dir = shared_dir(world, name + "-group"), single_dir = shared_dir(world, name + "-single");
  auto spec = tiny_spec(group_dir);
  spec.dp = dp;
  spec.model.names = {model};
  // ddpm: a short chain, and two channels per GroupNorm group at least. With one (width 8), GroupNorm cancels the
  // per-channel shifts before it exactly, their gradients are rounding noise, and Adam's first steps turn noise into
  // ±lr steps whose signs differ between 1 and 2 ranks.
  if (models::is_diffusion(model)) {
    spec.model.width = 16;
    spec.model.diffusion_steps = 20;
    spec.model.sampling_steps = 2;
  }
  spec.group = &comm;
  const auto grouped = train::train_model(spec, images);
  world.barrier();  // rank 0 has written the release
  if (world.is_root()) {
    auto single = spec;
    single.group = nullptr;
    single.run_dir = single_dir;
    const auto alone = train::train_model(single, images);
    const double diff = max_weight_difference(spec.model, group_dir, single_dir);
    std::printf("max abs weight difference, %d ranks vs 1: %g\n", world.size(), diff);
    EXPECT_LE(diff, 2e-5) << world.size() << " ranks vs 1";
    if (world.size() == 1) EXPECT_EQ(diff, 0.0);
    ASSERT_EQ(grouped.loss_d.size(), alone.loss_d.size());
    for (std::size_t i = 0; i < alone.loss_d.size(); ++i) {
      if (!std::isnan(alone.loss_d[i])) EXPECT_NEAR(grouped.loss_d[i], alone.loss_d[i], 1e-4);  // NaN: no discriminator
      EXPECT_NEAR(grouped.loss_g[i], alone.loss_g[i], 1e-4);
    }
    // Not std::filesystem::remove_all: libtorch.so exports its own copy of it, which crashes on a
    // non-empty folder in this process.
    EXPECT_EQ(std::system(("rm -rf '" + group_dir.parent_path().string() + "'").c_str()), 0);
  }
  world.barrier();
}

TEST(DataParallel, SameWeightsAsOneRank) { expect_group_matches_single_rank(std::nullopt, "plain"); }

TEST(DataParallel, SameWeightsAsOneRankUnderDpSgd) {
  expect_group_matches_single_rank(train::DpTraining{.max_grad_norm = 0.5, .noise_multiplier = 1.1, .sample_rate = 0.3},
                                   "dp");
}

TEST(DataParallel, SameWeightsAsOneRankForWganGp) { expect_group_matches_single_rank(std::nullopt, "wgan", "wgan-gp"); }

// The DDPM: timesteps and noise drawn for the global batch and sharded, the weight average after every step.
TEST(DataParallel, SameWeightsAsOneRankForDdpm) { expect_group_matches_single_rank(std::nullopt, "ddpm", "ddpm"); }

// The NCCL backend needs a GPU per rank; on CPU machines (CI) it is compiled and linked, and this skips.
TEST(Nccl, AllReduceOnTheGpu) {
  if (!dist::NcclGroup::compiled() || dist::usable_gpus() == 0) {
    GTEST_SKIP() << "no NCCL backend or no CUDA device";
  }
  const auto world = dist::Comm::world();
  const int device = dist::choose_device("cuda", world.local_rank()).index();
  std::vector<at::Tensor> tensors{torch::full({1000}, world.rank() + 1.0f, torch::Device(torch::kCUDA, device)),
                                  torch::full({10}, 1.0, torch::TensorOptions().dtype(torch::kFloat64).device(torch::kCUDA, device))};
  if (world.size() == 1) {  // TensorComm skips a group of one: call NCCL itself
    dist::NcclGroup nccl(world, device);
    for (auto& t : tensors) nccl.all_reduce(t, dist::ReduceOp::kSum);
  } else {
    dist::TensorComm comm(world);
    comm.all_reduce(tensors);
  }
  const float total = world.size() * (world.size() + 1) / 2.0f;
  EXPECT_TRUE(torch::allclose(tensors[0].cpu(), torch::full({1000}, total)));
  EXPECT_TRUE(torch::allclose(tensors[1].cpu(), torch::full({10}, static_cast<double>(world.size()), torch::kFloat64)));
}

}  // namespace
}  // namespace ganleaks
