#include "attacks/reconstruction.h"

#include <torch/torch.h>

namespace ganleaks::attacks {
namespace {

// Exact float64 MSE between each query and G(z) of its row.
at::Tensor reconstruction_mse(models::DcganGenerator& generator, const at::Tensor& queries, const at::Tensor& z) {
  torch::NoGradGuard no_grad;
  const auto images = generator->forward(z).reshape({z.size(0), -1}).to(torch::kFloat64);
  return (queries.to(torch::kFloat64) - images).square().mean(1);
}

std::vector<double> to_vector(const at::Tensor& t) {
  const auto c = t.contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

void freeze(models::DcganGenerator& generator) {
  generator->eval();
  for (auto& p : generator->parameters()) p.requires_grad_(false);  // gradients w.r.t. z only
}

}  // namespace

LatentObjective reconstruction_objective(models::DcganGenerator& generator, const at::Tensor& queries,
                                         double lambda_reg) {
  TORCH_CHECK(queries.dim() == 2, "reconstruction_objective: expected flattened queries (Q, D), got ", queries.sizes());
  return [generator, queries, lambda_reg](const at::Tensor& z, const at::Tensor& rows) mutable {
    const auto images = generator->forward(z).reshape({z.size(0), -1});
    const auto mse = (images - queries.index_select(0, rows)).square().mean(1);
    if (lambda_reg == 0) return mse;
    return mse + lambda_reg * (z.square().sum(1) - static_cast<double>(z.size(1))).square();
  };
}

Reconstruction reconstruct_white_box(models::DcganGenerator& generator, const at::Tensor& queries,
                                     const std::vector<at::Tensor>& starts, double lambda_reg,
                                     const LbfgsOptions& options) {
  TORCH_CHECK(!starts.empty(), "reconstruct_white_box: no starting points");
  freeze(generator);
  const auto objective = reconstruction_objective(generator, queries, lambda_reg);
  at::Tensor best;
  std::vector<std::int64_t> evaluations(queries.size(0), 0);
  for (const auto& start : starts) {
    const auto result = lbfgs_batched(objective, start, options);
    const auto mse = reconstruction_mse(generator, queries, result.z);
    best = best.defined() ? torch::minimum(best, mse) : mse;
    for (std::size_t i = 0; i < evaluations.size(); ++i) evaluations[i] += result.evaluations[i];
  }
  return {to_vector(best), evaluations};
}

Reconstruction reconstruct_partial_black_box(models::DcganGenerator& generator, const at::Tensor& queries,
                                             const at::Tensor& start, double lambda_reg, const PowellOptions& options) {
  freeze(generator);
  const auto result = powell_batched(reconstruction_objective(generator, queries, lambda_reg), start, options);
  return {to_vector(reconstruction_mse(generator, queries, result.z)), result.evaluations};
}

}  // namespace ganleaks::attacks
