#pragma once
// Feature statistics of a sample set spread over ranks, for FID and class histograms (SPEC §4): each rank
// extracts the features of its chunks of samples and adds their float64 moments (n, Σx, Σxxᵀ); one all-reduce
// combines them. So that the result does not depend on the number of ranks even in its last bit, chunk c is
// added into slot c mod S, slot s is owned by rank s mod W (summing its chunks in order), the all-reduce carries
// every slot (zeros from the ranks that do not own it, which add exactly), and every rank adds the slots in
// order. S depends on the feature dimension only (at most 16 slots, at most ~256 MiB of them).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "dist/comm.h"
#include "metrics/fid.h"
#include "models/sampling.h"

namespace ganleaks::extraction {

// What statistics are taken of: features (B, d) and, when classes > 0, predicted classes (B) int64.
struct FeatureFunctions {
  std::int64_t dim = 0;
  std::function<at::Tensor(const at::Tensor&)> features;
  int classes = 0;
  std::function<at::Tensor(const at::Tensor&)> predict;
};

struct SampleStatistics {
  metrics::GaussianStats gaussian;
  std::vector<std::int64_t> class_counts;  // per class (empty without a predictor)
  std::vector<double> class_histogram() const;
};

class ShardedChunks {
 public:
  // `total` samples in chunks of models::kSampleChunk; feature dimension `dim` fixes the slot count.
  ShardedChunks(const dist::Comm& world, std::int64_t total, std::int64_t dim);
  std::int64_t chunks() const { return chunks_; }
  std::int64_t size_of(std::int64_t chunk) const;  // samples in a chunk (the last may be short)
  bool mine(std::int64_t chunk) const;            // whether this rank processes the chunk
  int slot(std::int64_t chunk) const { return static_cast<int>(chunk % slots_); }
  int slots() const { return slots_; }

 private:
  const dist::Comm& world_;
  std::int64_t total_, chunks_;
  int slots_;
};

// One sample set's sums, slot by slot, on the ranks that own the slots: add() the chunks this rank owns (in
// any order), then finish() on every rank (collective).
class StatisticsAccumulator {
 public:
  StatisticsAccumulator(const ShardedChunks& chunks, const FeatureFunctions& functions);
  void add(std::int64_t chunk, const at::Tensor& samples);
  SampleStatistics finish(const dist::Comm& world);

 private:
  const ShardedChunks& chunks_;
  const FeatureFunctions& f_;
  std::vector<metrics::FeatureMoments> moments_;
  std::vector<std::int64_t> counts_;
};

// Collective: the statistics of `total` samples, chunk c of which is samples(c, count) ((count, ...) images).
SampleStatistics sample_statistics(const dist::Comm& world, std::int64_t total,
                                   const std::function<at::Tensor(std::int64_t chunk, std::int64_t count)>& samples,
                                   const FeatureFunctions& functions);

}  // namespace ganleaks::extraction
