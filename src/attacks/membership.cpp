#include "attacks/membership.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/seeding.h"

namespace ganleaks::attacks {

at::Tensor generate_chunk(models::DcganGenerator& generator, std::uint64_t stream_seed, std::int64_t chunk,
                          std::int64_t count) {
  TORCH_CHECK(count > 0 && count <= kSampleChunk, "generate_chunk: count ", count, " outside [1, ", kSampleChunk,
              "]");
  torch::NoGradGuard no_grad;
  generator->eval();
  auto stream = at::make_generator<at::CPUGeneratorImpl>(derive_seed(stream_seed, "generated-chunk", chunk));
  // Always draw and run a full chunk: sample i then depends neither on how many are asked for nor on the
  // batch-size-dependent choice of convolution kernel.
  const auto z = torch::randn({kSampleChunk, generator->z_dim()}, stream);
  return generator->forward(z).narrow(0, 0, count).reshape({count, -1}).contiguous();
}

Nearest nearest_generated(const at::Tensor& queries, const at::Tensor& samples) {
  TORCH_CHECK(queries.dim() == 2 && samples.dim() == 2 && queries.size(1) == samples.size(1),
              "nearest_generated: expected (Q, D) and (K, D), got ", queries.sizes(), " and ", samples.sizes());
  TORCH_CHECK(samples.size(0) > 0, "nearest_generated: no generated samples");
  torch::NoGradGuard no_grad;
  const auto q = queries.to(torch::kFloat32).contiguous();
  const auto q_norm = q.square().sum(1, /*keepdim=*/true);  // (Q, 1)
  auto best = torch::full({q.size(0)}, std::numeric_limits<float>::infinity());
  auto best_index = torch::zeros({q.size(0)}, torch::kInt64);
  // Fixed chunking keeps every matrix product the same shape whatever the rank count: scores stay bitwise equal.
  for (std::int64_t start = 0; start < samples.size(0); start += kSampleChunk) {
    const auto s = samples.narrow(0, start, std::min(kSampleChunk, samples.size(0) - start)).to(torch::kFloat32);
    const auto d2 = q_norm + s.square().sum(1).unsqueeze(0) - 2.0 * q.mm(s.t());  // (Q, chunk)
    const auto [value, index] = d2.min(1);
    const auto better = value < best;  // strict: the earliest sample wins ties
    best = torch::where(better, value, best);
    best_index = torch::where(better, index + start, best_index);
  }
  const auto winners = samples.index_select(0, best_index).to(torch::kFloat64);
  const auto mse = (queries.to(torch::kFloat64) - winners).square().mean(1);
  Nearest out;
  out.index.assign(best_index.data_ptr<std::int64_t>(), best_index.data_ptr<std::int64_t>() + best_index.numel());
  out.mse.assign(mse.data_ptr<double>(), mse.data_ptr<double>() + mse.numel());
  return out;
}

std::vector<double> discriminator_logits(models::DcganDiscriminator& discriminator, const at::Tensor& queries) {
  torch::NoGradGuard no_grad;
  discriminator->eval();
  const auto logits = discriminator->forward(queries).to(torch::kFloat64).contiguous();
  return {logits.data_ptr<double>(), logits.data_ptr<double>() + logits.numel()};
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
