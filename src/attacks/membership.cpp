#include "attacks/membership.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "attacks/tensor_vectors.h"
#include "core/seeding.h"

namespace ganleaks::attacks {

namespace {
// Squared L2 distances (Q, K) as ||x||^2 + ||y||^2 - 2 x y^T in float32: one matrix product.
at::Tensor squared_distances(const at::Tensor& queries, const at::Tensor& samples) {
  TORCH_CHECK(queries.dim() == 2 && samples.dim() == 2 && queries.size(1) == samples.size(1),
              "squared_distances: expected (Q, D) and (K, D), got ", queries.sizes(), " and ", samples.sizes());
  const auto q = queries.to(torch::kFloat32).contiguous();
  const auto s = samples.to(torch::kFloat32).contiguous();
  return q.square().sum(1, /*keepdim=*/true) + s.square().sum(1).unsqueeze(0) - 2.0 * q.mm(s.t());
}
}  // namespace

NearestCandidates nearest_in_chunks(const at::Tensor& raw_queries, const SampleChunks& raw_chunks, Distance distance) {
  TORCH_CHECK(raw_queries.dim() == 2, "nearest_in_chunks: expected (Q, D) queries, got ", raw_queries.sizes());
  TORCH_CHECK(!raw_chunks.empty(), "nearest_in_chunks: no samples");
  torch::NoGradGuard no_grad;
  auto binary = [](const at::Tensor& t) { return (t > 0.5).to(torch::kFloat32); };
  const auto queries = distance == Distance::kHamming ? binary(raw_queries) : raw_queries;
  SampleChunks chunks = raw_chunks;
  if (distance == Distance::kHamming) {
    for (auto& chunk : chunks) chunk.second = binary(chunk.second);
  }
  const auto q_count = queries.size(0);
  const auto on_device = torch::TensorOptions().device(queries.device());
  auto best = torch::full({q_count}, std::numeric_limits<float>::infinity(), on_device);
  auto best_index = torch::zeros({q_count}, on_device.dtype(torch::kInt64)), best_chunk = best_index.clone(),
       best_row = best_index.clone();
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const auto& [first, samples] = chunks[c];
    TORCH_CHECK(samples.size(0) > 0, "nearest_in_chunks: empty chunk");
    const auto [value, row] = squared_distances(queries, samples).min(1);  // first minimum on ties
    const auto better = value < best;  // strict: with chunks in ascending order the earlier sample wins ties
    best = torch::where(better, value, best);
    best_index = torch::where(better, row + first, best_index);
    best_chunk = torch::where(better, static_cast<std::int64_t>(c), best_chunk);
    best_row = torch::where(better, row, best_row);
  }
  // The exact distance of the winners only: their rows gathered chunk by chunk (one copy per chunk, not per query).
  auto winners = torch::empty({q_count, queries.size(1)}, on_device);
  const auto host_chunk = dist::to_host(best_chunk), host_row = dist::to_host(best_row);
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const auto won = host_chunk.eq(static_cast<std::int64_t>(c)).nonzero().squeeze(1);
    if (won.numel() == 0) continue;
    const auto rows = host_row.index_select(0, won).to(queries.device());
    winners.index_copy_(0, won.to(queries.device()), chunks[c].second.index_select(0, rows).to(torch::kFloat32));
  }
  const auto mse = (queries.to(torch::kFloat64) - winners.to(torch::kFloat64)).square().mean(1);
  return {to_vector<float>(best), to_vector<std::int64_t>(best_index), to_vector<double>(mse)};
}

void fold_nearest(NearestCandidates& best, const NearestCandidates& other) {
  if (best.d2.empty()) {
    best = other;
    return;
  }
  TORCH_CHECK(best.d2.size() == other.d2.size(), "fold_nearest: query counts differ");
  for (std::size_t i = 0; i < best.d2.size(); ++i) {
    if (other.d2[i] < best.d2[i] || (other.d2[i] == best.d2[i] && other.index[i] < best.index[i])) {
      best.d2[i] = other.d2[i];
      best.index[i] = other.index[i];
      best.mse[i] = other.mse[i];
    }
  }
}

Nearest nearest_generated(const at::Tensor& queries, const at::Tensor& samples, Distance distance) {
  TORCH_CHECK(samples.dim() == 2 && samples.size(0) > 0, "nearest_generated: no generated samples");
  // Fixed chunking keeps every matrix product the same shape whatever the rank count: scores stay bitwise equal.
  SampleChunks chunks;
  for (std::int64_t start = 0; start < samples.size(0); start += models::kSampleChunk) {
    chunks.emplace_back(start, samples.narrow(0, start, std::min(models::kSampleChunk, samples.size(0) - start)));
  }
  auto best = nearest_in_chunks(queries, chunks, distance);
  return {std::move(best.index), std::move(best.mse)};
}

std::vector<std::int64_t> count_within(const at::Tensor& queries, const at::Tensor& chunk, double radius_mse) {
  torch::NoGradGuard no_grad;
  const double radius_d2 = radius_mse * static_cast<double>(queries.size(1));
  return to_vector<std::int64_t>((squared_distances(queries, chunk) <= radius_d2).sum(1));
}

std::vector<double> log_kernel_sum(const at::Tensor& queries, const at::Tensor& chunk, double bandwidth_mse) {
  TORCH_CHECK(bandwidth_mse > 0, "log_kernel_sum: bandwidth must be positive, got ", bandwidth_mse);
  torch::NoGradGuard no_grad;
  const auto mse = squared_distances(queries, chunk).to(torch::kFloat64).clamp_min(0) / static_cast<double>(queries.size(1));
  return to_vector<double>(torch::logsumexp(-mse / (2.0 * bandwidth_mse), 1));
}

std::vector<double> realness_scores(const models::Networks& model, const at::Tensor& queries) {
  torch::NoGradGuard no_grad;
  model.train(false);
  return to_vector<double>(models::realness(model, queries).to(torch::kFloat64));
}

std::vector<double> euclidean_from_mse(const std::vector<double>& mse, std::int64_t dimension) {
  std::vector<double> out(mse.size());
  for (std::size_t i = 0; i < mse.size(); ++i) out[i] = std::sqrt(mse[i] * static_cast<double>(dimension));
  return out;
}

std::vector<double> squared_calibrated_scores(const std::vector<double>& distance_victim,
                                              const std::vector<double>& distance_reference) {
  TORCH_CHECK(distance_victim.size() == distance_reference.size(), "squared_calibrated_scores: sizes differ");
  std::vector<double> scores(distance_victim.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    scores[i] = -(distance_victim[i] * distance_victim[i] - distance_reference[i] * distance_reference[i]);
  }
  return scores;
}

std::vector<double> membership_scores(const std::vector<double>& loss_victim,
                                      const std::vector<double>* loss_reference) {
  std::vector<double> scores(loss_victim.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    scores[i] = -(loss_victim[i] - (loss_reference ? (*loss_reference)[i] : 0.0));
  }
  return scores;
}

}  // namespace ganleaks::attacks
