#pragma once
// Membership-inference building blocks shared by the settings (GAN-Leaks, Chen et al. CCS 2020).
//
// Every setting scores a query x by -L(x) for a per-query loss L; calibration (Sec. 5.6) subtracts the same
// loss under a reference model, L_cal = L(x | G_v) - L(x | G_r), on the values the reference code subtracts
// (tools/eval_roc.py): `fbb` the Euclidean distance to the nearest generated sample, `pbb`/`wb` the
// reconstruction loss MSE + lambda_lpips * LPIPS (docs/attacks.md, "Calibration").
// Functions here work on one rank's tensors of generated samples (models/sampling.h); sharding and gathering
// live in the membership task (membership/attack_job.cpp).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/sampling.h"
#include "models/zoo.h"

namespace ganleaks::attacks {

// Distance between a query and a generated sample. Images: L2 (reported as per-pixel MSE). Binary records
// (MEDGAN-style data, issue #5): Hamming — generated values are rounded to {0, 1} (threshold 0.5) and the
// reported "mse" is the fraction of differing attributes; for 0/1 vectors the squared L2 distance *is* the
// Hamming count, so the same matrix-product search serves both.
enum class Distance { kL2, kHamming };

struct Nearest {
  std::vector<std::int64_t> index;  // argmin over generated samples, per query
  std::vector<double> mse;          // exact float64 MSE between the query and that sample
};

// Full black-box reconstruction: nearest generated sample by L2, searched as ||x||^2 + ||y||^2 - 2 x y^T in
// float32 over sample chunks, then the winner's MSE recomputed exactly in float64.
// queries: (Q, D), samples: (K, D), both float32.
Nearest nearest_generated(const at::Tensor& queries, const at::Tensor& samples, Distance distance = Distance::kL2);

// The same search over the chunks one rank holds, then merged across ranks. nearest_in_chunks takes
// (global index of the first sample, samples) pairs in ascending order and returns this rank's candidates
// (the exact float64 MSE computed once, for the winners only); fold_nearest merges candidates by
// (float32 squared distance, sample index), lexicographically, so the merge order does not matter and
// the result equals nearest_generated's on all samples bit for bit.
struct NearestCandidates {
  std::vector<float> d2;             // squared L2 distance as searched (float32)
  std::vector<std::int64_t> index;   // global sample index
  std::vector<double> mse;           // exact float64 MSE to that sample
};
using SampleChunks = std::vector<std::pair<std::int64_t, at::Tensor>>;  // (first global index, (n, D) samples)
NearestCandidates nearest_in_chunks(const at::Tensor& queries, const SampleChunks& chunks,
                                    Distance distance = Distance::kL2);
void fold_nearest(NearestCandidates& best, const NearestCandidates& other);

// Monte-Carlo attack (Hilprecht et al. 2019): per query, how many of a chunk's samples lie within
// MSE <= radius (an L2 ball of radius sqrt(radius * D)); a sample exactly on the boundary counts.
std::vector<std::int64_t> count_within(const at::Tensor& queries, const at::Tensor& chunk, double radius_mse);

// Gaussian kernel density on the MSE scale: per query, log sum_j exp(-MSE(x, y_j) / (2 h)) over a chunk's
// samples y_j, in float64. Chunks combine by log-sum-exp in chunk order.
std::vector<double> log_kernel_sum(const at::Tensor& queries, const at::Tensor& chunk, double bandwidth_mse);

// The `dis` setting's scores of queries (Q, ...) in eval mode: the model's realness (models/zoo.h), its
// discriminator's logit or, for the VAE, the ELBO.
std::vector<double> realness_scores(const models::Networks& model, const at::Tensor& queries);

// fbb's loss, the Euclidean distance ||x - R(x|G)||_2 over the D values of a record, from the exact per-value
// MSE that the search returns: sqrt(D * MSE). (For binary records: the square root of the Hamming count.)
std::vector<double> euclidean_from_mse(const std::vector<double>& mse, std::int64_t dimension);

// Turns per-query losses into membership scores (higher = member). Without a reference, score = -L_v;
// with one, score = -(L_v - L_r).
std::vector<double> membership_scores(const std::vector<double>& loss_victim,
                                      const std::vector<double>* loss_reference);

// fbb calibrated on squared distances, -(d_v^2 - d_r^2): the variant ganleaks reported before issue #17
// (as MSE_v - MSE_r, the same ranking), kept as `fbb-squared` beside the reference's d_v - d_r. The two rank
// queries differently: d_v^2 - d_r^2 = (d_v - d_r)(d_v + d_r).
std::vector<double> squared_calibrated_scores(const std::vector<double>& distance_victim,
                                              const std::vector<double>& distance_reference);

}  // namespace ganleaks::attacks
