#pragma once
// A generator's samples as every task draws them: in chunks of kSampleChunk latents, each chunk from its own
// seeded stream, so that sample i is the same whichever rank generates it and however many are asked for.
// (Membership attacks search them, extraction answers queries and measures FID with them.)
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "models/networks.h"

namespace ganleaks::models {

inline constexpr std::int64_t kSampleChunk = 500;

// Chunks of kSampleChunk covering `total` samples (the last may be short).
constexpr std::int64_t chunk_count(std::int64_t total) { return (total + kSampleChunk - 1) / kSampleChunk; }

// Samples [chunk*kSampleChunk, ...) of a generator's stream: count (<= kSampleChunk) samples, flattened to
// (count, C*H*W). The generator runs in eval mode (BatchNorm running statistics), so every sample depends on its
// own latent only.
at::Tensor generate_chunk(GeneratorBase& generator, std::uint64_t stream_seed, std::int64_t chunk, std::int64_t count);

// The latents behind generate_chunk: (kSampleChunk, z_dim) for one chunk, or one row per global sample index
// (index = chunk * kSampleChunk + row) — the `nn` start of the latent searches.
at::Tensor chunk_latents(std::uint64_t stream_seed, std::int64_t chunk, std::int64_t z_dim);
at::Tensor sample_latents(std::uint64_t stream_seed, const std::vector<std::int64_t>& indices, std::int64_t z_dim);

}  // namespace ganleaks::models
