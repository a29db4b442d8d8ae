#include "metrics/fid.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <stdexcept>

namespace ganleaks::metrics {

GaussianStats gaussian_stats(const at::Tensor& features) {
  if (features.dim() != 2 || features.size(0) <= features.size(1)) {
    throw std::invalid_argument(fmt::format(
        "FID: need more samples than feature dimensions (N > d) for a non-singular covariance; got {} samples of "
        "dimension {}", features.dim() == 2 ? features.size(0) : 0, features.dim() == 2 ? features.size(1) : 0));
  }
  const auto x = features.to(torch::kFloat64);
  const auto mean = x.mean(0);
  const auto centred = x - mean;
  return {mean, centred.t().mm(centred) / static_cast<double>(x.size(0) - 1), x.size(0)};
}

namespace {
// Σ^½ of a symmetric positive semi-definite matrix, negative rounding-error eigenvalues set to 0.
torch::Tensor symmetric_sqrt(const torch::Tensor& m) {
  const auto [values, vectors] = torch::linalg_eigh(m);
  return vectors.mm(torch::diag(values.clamp_min(0).sqrt())).mm(vectors.t());
}
}  // namespace

double frechet_distance(const GaussianStats& a, const GaussianStats& b) {
  if (a.mean.sizes() != b.mean.sizes()) throw std::invalid_argument("FID: feature dimensions differ");
  const auto root = symmetric_sqrt(a.covariance);
  auto product = root.mm(b.covariance).mm(root);
  product = (product + product.t()) / 2;  // symmetric up to rounding
  const double trace_sqrt = torch::linalg_eigvalsh(product).clamp_min(0).sqrt().sum().item<double>();
  const double mean_term = (a.mean - b.mean).pow(2).sum().item<double>();
  return mean_term + a.covariance.trace().item<double>() + b.covariance.trace().item<double>() - 2 * trace_sqrt;
}

at::Tensor pooled_pixel_features(const at::Tensor& images) {
  return torch::adaptive_avg_pool2d(images.to(torch::kFloat64), {8, 8}).flatten(1);
}

}  // namespace ganleaks::metrics
