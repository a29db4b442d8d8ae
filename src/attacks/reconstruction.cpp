#include "attacks/reconstruction.h"

#include <torch/torch.h>

#include "attacks/tensor_vectors.h"

namespace ganleaks::attacks {
namespace {

// The attack's loss of each query at its latent: float64 MSE plus the perceptual term, without the regulariser.
at::Tensor reconstruction_loss(models::GeneratorBase& generator, const at::Tensor& queries, const at::Tensor& z,
                               const ReconstructionLoss& loss) {
  torch::NoGradGuard no_grad;
  const auto images = generator.forward(z).reshape({z.size(0), -1});
  auto out = (queries.to(torch::kFloat64) - images.to(torch::kFloat64)).square().mean(1);
  if (loss.lambda_lpips > 0) out += loss.lambda_lpips * (*loss.perceptual)(images, queries).to(torch::kFloat64);
  return out;
}

void freeze(models::GeneratorBase& generator) {
  generator.eval();
  for (auto& p : generator.parameters()) p.requires_grad_(false);  // gradients w.r.t. z only
}

}  // namespace

LatentObjective reconstruction_objective(models::GeneratorBase& generator, const at::Tensor& queries,
                                         const ReconstructionLoss& loss) {
  TORCH_CHECK(queries.dim() == 2, "reconstruction_objective: expected flattened queries (Q, D), got ", queries.sizes());
  TORCH_CHECK(loss.lambda_lpips == 0 || loss.perceptual,
              "reconstruction_objective: lambda_lpips > 0 needs a perceptual distance");
  return [&generator, queries, loss](const at::Tensor& z, const at::Tensor& rows) mutable {
    const auto images = generator.forward(z).reshape({z.size(0), -1});
    auto value = (images - queries.index_select(0, rows)).square().mean(1);
    if (loss.lambda_lpips > 0) value = value + loss.lambda_lpips * loss.perceptual->to_targets(images, queries, rows);
    if (loss.lambda_reg > 0) value = value + loss.lambda_reg * (z.square().sum(1) - static_cast<double>(z.size(1))).square();
    return value;
  };
}

Reconstruction reconstruct_white_box(models::GeneratorBase& generator, const at::Tensor& queries,
                                     const std::vector<at::Tensor>& starts, const ReconstructionLoss& loss,
                                     const LbfgsOptions& options) {
  TORCH_CHECK(!starts.empty(), "reconstruct_white_box: no starting points");
  freeze(generator);
  const auto objective = reconstruction_objective(generator, queries, loss);
  at::Tensor best;
  std::vector<std::int64_t> evaluations(queries.size(0), 0);
  for (const auto& start : starts) {
    const auto result = lbfgs_batched(objective, start, options);
    const auto value = reconstruction_loss(generator, queries, result.z, loss);
    best = best.defined() ? torch::minimum(best, value) : value;
    for (std::size_t i = 0; i < evaluations.size(); ++i) evaluations[i] += result.evaluations[i];
  }
  return {to_vector<double>(best), evaluations};
}

Reconstruction reconstruct_partial_black_box(models::GeneratorBase& generator, const at::Tensor& queries,
                                             const at::Tensor& start, const ReconstructionLoss& loss,
                                             const PowellOptions& options) {
  freeze(generator);
  const auto result = powell_batched(reconstruction_objective(generator, queries, loss), start, options);
  return {to_vector<double>(reconstruction_loss(generator, queries, result.z, loss)), result.evaluations};
}

}  // namespace ganleaks::attacks
