#include "attacks/membership.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "models/dcgan.h"

namespace ganleaks::attacks {
namespace {

// The obvious O(Q*K*D) loop the batched search must agree with.
Nearest brute_force(const at::Tensor& queries, const at::Tensor& samples) {
  const auto q = queries.to(torch::kFloat64), s = samples.to(torch::kFloat64);
  Nearest out;
  for (std::int64_t i = 0; i < q.size(0); ++i) {
    double best = std::numeric_limits<double>::infinity();
    std::int64_t best_j = -1;
    for (std::int64_t j = 0; j < s.size(0); ++j) {
      const double d = (q[i] - s[j]).square().mean().item<double>();
      if (d < best) {
        best = d;
        best_j = j;
      }
    }
    out.index.push_back(best_j);
    out.mse.push_back(best);
  }
  return out;
}

TEST(Fbb, NearestGeneratedEqualsBruteForceLoop) {
  torch::manual_seed(3);
  // More samples than one chunk, so the chunked minimum is exercised.
  const auto samples = torch::rand({models::kSampleChunk + 137, 48}) * 2 - 1;
  auto queries = torch::rand({23, 48}) * 2 - 1;
  queries[5] = samples[models::kSampleChunk + 3];  // an exact member: distance 0 in the second chunk
  const auto fast = nearest_generated(queries, samples);
  const auto slow = brute_force(queries, samples);
  ASSERT_EQ(fast.index.size(), 23u);
  for (std::size_t i = 0; i < fast.index.size(); ++i) {
    EXPECT_EQ(fast.index[i], slow.index[i]) << "query " << i;
    EXPECT_NEAR(fast.mse[i], slow.mse[i], 1e-12) << "query " << i;
  }
  EXPECT_EQ(fast.index[5], models::kSampleChunk + 3);
  EXPECT_EQ(fast.mse[5], 0.0);
}

TEST(Fbb, QueryResultDoesNotDependOnTheOtherQueriesInItsBlock) {
  torch::manual_seed(4);
  const auto samples = torch::randn({700, 32});
  const auto queries = torch::randn({40, 32});
  const auto all = nearest_generated(queries, samples);
  const auto part = nearest_generated(queries.narrow(0, 10, 7), samples);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(part.index[i], all.index[10 + i]);
    EXPECT_EQ(part.mse[i], all.mse[10 + i]);  // recomputed exactly in float64
  }
}

TEST(Fbb, GeneratedChunksAreReproducibleAndPrefixStable) {
  torch::manual_seed(0);
  models::DcganGenerator g(models::DcganOptions{.z_dim = 8, .width = 4, .channels = 1});
  const auto a = models::generate_chunk(*g, 42, 3, models::kSampleChunk);
  const auto b = models::generate_chunk(*g, 42, 3, 17);
  const auto c = models::generate_chunk(*g, 42, 4, 17);
  EXPECT_EQ(a.sizes(), (std::vector<std::int64_t>{models::kSampleChunk, 1024}));
  EXPECT_TRUE(torch::equal(a.narrow(0, 0, 17), b)) << "sample i must not depend on how many are drawn";
  EXPECT_FALSE(torch::equal(b, c)) << "chunks must use different latents";
  EXPECT_LE(a.abs().max().item<float>(), 1.0f);
}

TEST(Fbb, MergingRanksInAnyOrderEqualsTheWholeSearch) {
  torch::manual_seed(5);
  auto samples = torch::randn({3 * models::kSampleChunk + 11, 20});
  auto queries = torch::randn({17, 20});
  samples[2 * models::kSampleChunk + 5] = samples[7];  // a tie across ranks: the earlier sample must win
  queries[3] = samples[7];
  const auto whole = nearest_generated(queries, samples);
  EXPECT_EQ(whole.index[3], 7);
  // Two "ranks": chunks 0 and 2 on one, 1 and 3 on the other, as the runner deals them.
  SampleChunks even, odd;
  for (std::int64_t c = 0; c * models::kSampleChunk < samples.size(0); ++c) {
    const auto first = c * models::kSampleChunk;
    (c % 2 ? odd : even).emplace_back(first, samples.narrow(0, first, std::min(models::kSampleChunk, samples.size(0) - first)));
  }
  const auto a = nearest_in_chunks(queries, even), b = nearest_in_chunks(queries, odd);
  for (const auto& order : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    NearestCandidates merged;
    fold_nearest(merged, *order.first);
    fold_nearest(merged, *order.second);
    EXPECT_EQ(merged.index, whole.index);
    EXPECT_EQ(merged.mse, whole.mse);
  }
}

TEST(Fbb, HammingNearestOnBinaryRecordsEqualsABruteForceLoop) {
  torch::manual_seed(8);
  const auto generated = torch::rand({models::kSampleChunk + 40, 60});  // rounded to 0/1 by the search
  const auto queries = (torch::rand({11, 60}) > 0.5).to(torch::kFloat32);
  const auto fast = nearest_generated(queries, generated, Distance::kHamming);
  const auto rounded = (generated > 0.5).to(torch::kInt32), q = queries.to(torch::kInt32);
  for (std::int64_t i = 0; i < 11; ++i) {
    std::int64_t best = 61, best_j = -1;
    for (std::int64_t j = 0; j < rounded.size(0); ++j) {
      const auto differing = (q[i] != rounded[j]).sum().item<std::int64_t>();
      if (differing < best) best = differing, best_j = j;
    }
    EXPECT_EQ(fast.index[i], best_j) << "query " << i;
    EXPECT_DOUBLE_EQ(fast.mse[i], static_cast<double>(best) / 60.0) << "query " << i;
  }
}

TEST(MonteCarlo, CountsWithinTheRadiusEqualABruteForceLoop) {
  torch::manual_seed(6);
  const auto samples = torch::randn({300, 16}), queries = torch::randn({9, 16});
  const auto q = queries.to(torch::kFloat64), s = samples.to(torch::kFloat64);
  const double radius = 1.8;  // on the MSE scale
  const auto fast = count_within(queries, samples, radius);
  for (std::int64_t i = 0; i < 9; ++i) {
    std::int64_t slow = 0;
    for (std::int64_t j = 0; j < 300; ++j) slow += (q[i] - s[j]).square().mean().item<double>() <= radius;
    EXPECT_EQ(fast[i], slow) << "query " << i;
  }
  // A sample exactly on the boundary counts (<=): a query at distance 0 with radius 0 counts itself.
  EXPECT_EQ(count_within(samples.narrow(0, 4, 1), samples, 0.0)[0], 1);
}

TEST(Domias, LogKernelSumEqualsABruteForceLoop) {
  torch::manual_seed(7);
  const auto samples = torch::randn({200, 12}), queries = torch::randn({5, 12});
  const auto q = queries.to(torch::kFloat64), s = samples.to(torch::kFloat64);
  const double h = 0.7;
  const auto fast = log_kernel_sum(queries, samples, h);
  for (std::int64_t i = 0; i < 5; ++i) {
    double sum = 0;
    for (std::int64_t j = 0; j < 200; ++j) sum += std::exp(-(q[i] - s[j]).square().mean().item<double>() / (2 * h));
    EXPECT_NEAR(fast[i], std::log(sum), 1e-5) << "query " << i;
  }
}

TEST(Latents, SampleLatentsAreTheLatentsBehindGeneratedChunks) {
  const auto chunk = models::chunk_latents(9, 2, 6);
  const auto picked = models::sample_latents(9, {2 * models::kSampleChunk + 7, 2 * models::kSampleChunk}, 6);
  EXPECT_TRUE(torch::equal(picked[0], chunk[7]));
  EXPECT_TRUE(torch::equal(picked[1], chunk[0]));
}

TEST(Scores, CalibrationSubtractsTheReferenceLoss) {
  const std::vector<double> victim{1.0, 4.0}, reference{3.0, 1.0};
  EXPECT_EQ(membership_scores(victim, nullptr), (std::vector<double>{-1.0, -4.0}));
  EXPECT_EQ(membership_scores(victim, &reference), (std::vector<double>{2.0, -3.0}));
}

// fbb's loss is the Euclidean distance sqrt(D * MSE); calibrating distances and squared distances can order two
// queries oppositely (hand-computed): A with d_v = 3, d_r = 2 and B with d_v = 1.5, d_r = 0. Distances:
// -(3 - 2) = -1 > -(1.5 - 0) = -1.5, A looks more like a member; squared: -(9 - 4) = -5 < -(2.25 - 0), B does.
TEST(Scores, FbbCalibratesDistancesNotSquaredDistances) {
  EXPECT_EQ(euclidean_from_mse({0.25, 1.0, 0.0}, 4), (std::vector<double>{1.0, 2.0, 0.0}));
  const std::vector<double> victim{3.0, 1.5}, reference{2.0, 0.0};
  const auto by_distance = membership_scores(victim, &reference);
  const auto by_square = squared_calibrated_scores(victim, reference);
  EXPECT_EQ(by_distance, (std::vector<double>{-1.0, -1.5}));
  EXPECT_EQ(by_square, (std::vector<double>{-5.0, -2.25}));
  EXPECT_GT(by_distance[0], by_distance[1]);
  EXPECT_LT(by_square[0], by_square[1]);
}

// Every model of the zoo scores each query on its own in eval mode (the `dis` setting reads single queries),
// whatever batch statistics it uses in training: scores of one query alone equal those inside a batch.
TEST(Dis, RealnessPerQueryIndependentOfBatchForEveryModel) {
  for (const auto& info : models::kModels) {
    if (models::is_diffusion(info.name)) continue;  // no `dis` (tests/attacks/test_diffusion.cpp has their settings)
    torch::manual_seed(1);
    const ModelConfig config{.names = {std::string(info.name)}, .z_dim = 8, .width = 4};
    const bool images = info.modality == models::Modality::kImages;
    const auto shape = images ? std::vector<std::int64_t>{1, 32, 32} : std::vector<std::int64_t>{20};
    const auto model = models::make_networks(config, shape);
    auto x_shape = shape;
    x_shape.insert(x_shape.begin(), 6);
    const auto x = images ? torch::rand(x_shape) * 2 - 1 : torch::randint(0, 2, x_shape).to(torch::kFloat32);
    // A few training-mode passes move running statistics away from their initial values.
    model.train(true);
    for (int i = 0; i < 3; ++i) {
      torch::NoGradGuard no_grad;
      models::realness(model, x);
    }
    const auto all = realness_scores(model, x);
    const auto one = realness_scores(model, x.narrow(0, 4, 1));
    ASSERT_EQ(all.size(), 6u) << info.name;
    EXPECT_NEAR(one[0], all[4], 1e-5 * (1 + std::abs(all[4]))) << info.name;
  }
}

}  // namespace
}  // namespace ganleaks::attacks
