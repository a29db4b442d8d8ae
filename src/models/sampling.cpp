#include "models/sampling.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/seeding.h"

namespace ganleaks::models {

// host: latents come from seeded CPU streams (the same on every device); generate_chunk and the
// attacks move them to the generator's device.
at::Tensor chunk_latents(std::uint64_t stream_seed, std::int64_t chunk, std::int64_t z_dim) {
  auto stream = at::make_generator<at::CPUGeneratorImpl>(derive_seed(stream_seed, "generated-chunk", chunk));
  return torch::randn({kSampleChunk, z_dim}, stream);
}

at::Tensor sample_latents(std::uint64_t stream_seed, const std::vector<std::int64_t>& indices, std::int64_t z_dim) {
  // host: as chunk_latents.
  auto out = torch::empty({static_cast<std::int64_t>(indices.size()), z_dim});
  for (std::size_t i = 0; i < indices.size(); ++i) {
    TORCH_CHECK(indices[i] >= 0, "sample_latents: negative sample index ", indices[i]);
    out[static_cast<std::int64_t>(i)].copy_(chunk_latents(stream_seed, indices[i] / kSampleChunk, z_dim)[indices[i] % kSampleChunk]);
  }
  return out;
}

at::Tensor generate_chunk(GeneratorBase& generator, std::uint64_t stream_seed, std::int64_t chunk, std::int64_t count) {
  TORCH_CHECK(count > 0 && count <= kSampleChunk, "generate_chunk: count ", count, " outside [1, ", kSampleChunk, "]");
  torch::NoGradGuard no_grad;
  generator.eval();
  // Always run a full chunk: sample i then depends neither on how many are asked for nor on the batch-size-dependent
  // choice of convolution kernel.
  const auto z = chunk_latents(stream_seed, chunk, generator.z_dim()).to(generator.device());
  return generator.forward(z).narrow(0, 0, count).reshape({count, -1}).contiguous();
}

}  // namespace ganleaks::models
