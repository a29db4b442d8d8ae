#include "metrics/fid.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <stdexcept>

#include "core/errors.h"
#include "dist/device.h"
#include "data/tabular.h"

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

void FeatureMoments::add(const at::Tensor& features) {
  if (features.dim() != 2) throw std::invalid_argument("FID: features must be (N, d)");
  const auto x = features.to(torch::kFloat64);
  if (!sum.defined()) {
    sum = torch::zeros({x.size(1)}, x.options());  // float64, on the features' device
    outer = torch::zeros({x.size(1), x.size(1)}, x.options());
  }
  if (x.size(1) != sum.size(0)) throw std::invalid_argument("FID: feature dimensions differ between additions");
  count += x.size(0);
  sum += x.sum(0);
  outer += x.t().mm(x);
}

at::Tensor FeatureMoments::packed() const {
  return torch::cat({torch::full({1}, static_cast<double>(count), sum.options()), sum, outer.flatten()});
}

FeatureMoments FeatureMoments::unpacked(const at::Tensor& packed, std::int64_t dim) {
  if (packed.numel() != 1 + dim + dim * dim) throw std::invalid_argument("FID: packed moments of the wrong size");
  return {std::llround(dist::host_double(packed[0])), packed.slice(0, 1, 1 + dim).clone(),
          packed.slice(0, 1 + dim).view({dim, dim}).clone()};
}

GaussianStats FeatureMoments::stats() const {
  const auto d = sum.defined() ? sum.size(0) : 0;
  if (count <= d) {
    throw std::invalid_argument(fmt::format(
        "FID: need more samples than feature dimensions (N > d) for a non-singular covariance; got {} samples of "
        "dimension {}", count, d));
  }
  const auto n = static_cast<double>(count);
  const auto mean = sum / n;
  return {mean, (outer - n * torch::outer(mean, mean)) / (n - 1), count};
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
  const double trace_sqrt = dist::host_double(torch::linalg_eigvalsh(product).clamp_min(0).sqrt().sum());
  const double mean_term = dist::host_double((a.mean - b.mean).pow(2).sum());
  return mean_term + dist::host_double(a.covariance.trace()) + dist::host_double(b.covariance.trace()) - 2 * trace_sqrt;
}

double trace_sqrt_of_product(const GaussianStats& a, const GaussianStats& b) {
  const auto values = torch::real(torch::linalg_eigvals(a.covariance.mm(b.covariance)));
  return values.clamp_min(0).sqrt().sum().item<double>();
}

double frechet_distance_via_product(const GaussianStats& a, const GaussianStats& b) {
  return (a.mean - b.mean).pow(2).sum().item<double>() + a.covariance.trace().item<double>() +
         b.covariance.trace().item<double>() - 2 * trace_sqrt_of_product(a, b);
}

std::string fid_report(const std::filesystem::path& a, const std::filesystem::path& b, const std::string& dataset) {
  const auto stats_of = [&](const std::filesystem::path& file) {
    auto table = data::load_tabular_h5(file, dataset, /*labels_key=*/"");
    FeatureMoments moments;
    // host: `ganleaks fid` works on files, on the CPU.
    moments.add(torch::from_blob(table.values.data(), {table.records, table.features}, torch::kFloat32));
    try {
      return moments.stats();
    } catch (const std::invalid_argument& e) {
      throw DataError(file.string() + ": dataset '" + dataset + "': " + e.what());
    }
  };
  const auto sa = stats_of(a), sb = stats_of(b);
  if (sa.mean.size(0) != sb.mean.size(0)) {
    throw DataError(fmt::format("{} and {}: dataset '{}' has {} and {} features; FID needs the same", a.string(),
                                b.string(), dataset, sa.mean.size(0), sb.mean.size(0)));
  }
  const double fid = frechet_distance(sa, sb);
  const double via_product = frechet_distance_via_product(sa, sb);
  return fmt::format("fid = {:.17g}\nfid_eigenvalues_of_product = {:.17g}\nn_a = {}\nn_b = {}\ndim = {}\n"
                     "statistics = \"float64 (features read as float32)\"\n",
                     fid, via_product, sa.count, sb.count, sa.mean.size(0));
}

at::Tensor pooled_pixel_features(const at::Tensor& images) {
  return torch::adaptive_avg_pool2d(images.to(torch::kFloat64), {8, 8}).flatten(1);
}

}  // namespace ganleaks::metrics
