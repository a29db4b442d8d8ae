#pragma once
// Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, "GANs trained by a two
// time-scale update rule"; SPEC §4): FID = |μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½.
// Statistics in float64; the trace term from the eigenvalues of the symmetric Σ₁^½ Σ₂ Σ₁^½ (eigh), which
// equals tr (Σ₁Σ₂)^½ without the complex square root of a non-symmetric matrix.
//
// Features are whatever the caller extracts; the name of the extractor travels with every reported value
// (the pixel features used for victims' sample quality are NOT Inception features).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace ganleaks::metrics {

struct GaussianStats {
  at::Tensor mean;        // (d) float64
  at::Tensor covariance;  // (d, d) float64, unbiased (N − 1)
  std::int64_t count = 0;
};

// features: (N, d); N must exceed d (else the covariance is singular): std::invalid_argument.
GaussianStats gaussian_stats(const at::Tensor& features);

// The sufficient statistics of a feature set in float64 — count, Σx, Σxxᵀ — for sets spread over ranks
// (SPEC §4): each rank adds its own features, one all-reduce of packed() sums them, and stats() finishes
// on any rank. Sums in another order change the result by rounding only (~1e-15 relative).
struct FeatureMoments {
  std::int64_t count = 0;
  at::Tensor sum;    // (d)
  at::Tensor outer;  // (d, d)

  void add(const at::Tensor& features);  // (n, d), any floating dtype
  at::Tensor packed() const;             // [count, Σx, Σxxᵀ] as one float64 vector of 1 + d + d² values
  static FeatureMoments unpacked(const at::Tensor& packed, std::int64_t dim);
  GaussianStats stats() const;           // covariance with N − 1; N > d, else std::invalid_argument
};

double frechet_distance(const GaussianStats& a, const GaussianStats& b);

// SPEC §4's cross-check of the trace term: tr (Σ₁Σ₂)^½ from the eigenvalues of the non-symmetric Σ₁Σ₂ (real
// parts, negatives from rounding clamped to 0), to compare with the eigh route frechet_distance takes.
double trace_sqrt_of_product(const GaussianStats& a, const GaussianStats& b);
// The whole FID with that trace term: ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½ (eigenvalue route).
double frechet_distance_via_product(const GaussianStats& a, const GaussianStats& b);

// `ganleaks fid A.h5 B.h5`: FID between the (N, d) float or integer datasets `dataset` of two HDF5 files
// (validated as data/tabular.h does: errors name the file and dataset), as TOML lines: fid, the same FID
// with the trace term from the eigenvalues of Σ₁Σ₂, n_a, n_b, dim, and the statistics' precision.
std::string fid_report(const std::filesystem::path& a, const std::filesystem::path& b, const std::string& dataset);

// Victim sample quality without a trained feature network: images (N, C, H, W) average-pooled to
// 8 × 8 pixels per channel. Cheap and model-free, comparable only within one dataset.
at::Tensor pooled_pixel_features(const at::Tensor& images);
inline constexpr const char* kPooledPixelExtractor = "pixels-8x8";

}  // namespace ganleaks::metrics
