#pragma once
// Membership-inference building blocks shared by the settings (GAN-Leaks, Chen et al. CCS 2020).
//
// Every reconstruction setting scores a query x by -L(x, R(x|G)) with L = per-pixel MSE; calibration
// (Sec. 5.6) subtracts the same loss under a reference model: L_cal = L(x, R(x|G_v)) - L(x, R(x|G_r)).
// Functions here work on one rank's tensors; sharding and gathering live in the runner.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/dcgan.h"

namespace ganleaks::attacks {

// Generated samples are produced in chunks of this many latents, each chunk from its own seeded stream,
// so that sample i is the same whichever rank generates it.
inline constexpr std::int64_t kSampleChunk = 500;

// Samples [chunk*kSampleChunk, ...) of a generator's stream: count (<= kSampleChunk) images, flattened to
// (count, C*H*W). The generator runs in eval mode (BatchNorm running statistics), so every sample depends
// on its own latent only.
at::Tensor generate_chunk(models::DcganGenerator& generator, std::uint64_t stream_seed, std::int64_t chunk,
                          std::int64_t count);

struct Nearest {
  std::vector<std::int64_t> index;  // argmin over generated samples, per query
  std::vector<double> mse;          // exact float64 MSE between the query and that sample
};

// Full black-box reconstruction: nearest generated sample by L2, searched as ||x||^2 + ||y||^2 - 2 x y^T in
// float32 over sample chunks, then the winner's MSE recomputed exactly in float64.
// queries: (Q, D), samples: (K, D), both float32.
Nearest nearest_generated(const at::Tensor& queries, const at::Tensor& samples);

// Discriminator scores (logits) of queries (Q, C, H, W), eval mode.
std::vector<double> discriminator_logits(models::DcganDiscriminator& discriminator, const at::Tensor& queries);

// Turns per-query losses into membership scores (higher = member). Without a reference, score = -L_v;
// with one, score = -(L_v - L_r).
std::vector<double> membership_scores(const std::vector<double>& loss_victim,
                                      const std::vector<double>* loss_reference);

}  // namespace ganleaks::attacks
