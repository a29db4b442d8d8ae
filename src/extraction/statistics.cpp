#include "extraction/statistics.h"

#include <torch/torch.h>

#include <algorithm>

#include "dist/device.h"

namespace ganleaks::extraction {

namespace {
// Slots until their packed moments reach ~256 MiB: 16 for the classifier's 64-d features, 7 for Inception's 2048.
int slot_count(std::int64_t dim) {
  const double bytes = 8.0 * static_cast<double>(1 + dim + dim * dim);
  return static_cast<int>(std::clamp(256.0 * (1 << 20) / bytes, 1.0, 16.0));
}
}  // namespace

std::vector<double> SampleStatistics::class_histogram() const {
  std::int64_t total = 0;
  for (const auto c : class_counts) total += c;
  std::vector<double> h;
  for (const auto c : class_counts) h.push_back(total > 0 ? static_cast<double>(c) / static_cast<double>(total) : 0.0);
  return h;
}

ShardedChunks::ShardedChunks(const dist::Comm& world, std::int64_t total, std::int64_t dim)
    : world_(world), total_(total), chunks_((total + models::kSampleChunk - 1) / models::kSampleChunk), slots_(slot_count(dim)) {}

std::int64_t ShardedChunks::size_of(std::int64_t chunk) const {
  return std::min(models::kSampleChunk, total_ - chunk * models::kSampleChunk);
}

bool ShardedChunks::mine(std::int64_t chunk) const { return slot(chunk) % world_.size() == world_.rank(); }

StatisticsAccumulator::StatisticsAccumulator(const ShardedChunks& chunks, const FeatureFunctions& functions)
    : chunks_(chunks),
      f_(functions),
      moments_(static_cast<std::size_t>(chunks.slots())),
      counts_(static_cast<std::size_t>(functions.classes), 0) {}

void StatisticsAccumulator::add(std::int64_t chunk, const at::Tensor& samples) {
  torch::NoGradGuard no_grad;
  moments_[static_cast<std::size_t>(chunks_.slot(chunk))].add(f_.features(samples));
  if (f_.classes == 0) return;
  const auto predicted = dist::to_host(f_.predict(samples).to(torch::kInt64));
  const auto* p = predicted.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < predicted.numel(); ++i) {
    TORCH_CHECK(p[i] >= 0 && p[i] < f_.classes, "sample statistics: predicted class ", p[i], " outside [0, ",
                f_.classes, ")");
    ++counts_[static_cast<std::size_t>(p[i])];
  }
}

SampleStatistics StatisticsAccumulator::finish(const dist::Comm& world) {
  const auto d = f_.dim, width = 1 + d + d * d;
  // host: the moments meet here to be summed over MPI.
  auto all = torch::zeros({chunks_.slots(), width}, torch::kFloat64);
  for (int s = 0; s < chunks_.slots(); ++s) {
    const auto& m = moments_[static_cast<std::size_t>(s)];
    if (m.count > 0) all[s].copy_(m.packed());
  }
  world.all_reduce(std::span(all.data_ptr<double>(), static_cast<std::size_t>(all.numel())), dist::ReduceOp::kSum);
  auto total = all[0].clone();
  for (int s = 1; s < chunks_.slots(); ++s) total += all[s];  // slot order: the same sum on any number of ranks
  if (!counts_.empty()) world.all_reduce(std::span(counts_), dist::ReduceOp::kSum);
  return {metrics::FeatureMoments::unpacked(total, d).stats(), counts_};
}

SampleStatistics sample_statistics(const dist::Comm& world, std::int64_t total,
                                   const std::function<at::Tensor(std::int64_t, std::int64_t)>& samples,
                                   const FeatureFunctions& functions) {
  const ShardedChunks chunks(world, total, functions.dim);
  StatisticsAccumulator sums(chunks, functions);
  for (std::int64_t c = 0; c < chunks.chunks(); ++c) {
    if (chunks.mine(c)) sums.add(c, samples(c, chunks.size_of(c)));
  }
  return sums.finish(world);
}

}  // namespace ganleaks::extraction
