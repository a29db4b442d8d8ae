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

namespace ganleaks::metrics {

struct GaussianStats {
  at::Tensor mean;        // (d) float64
  at::Tensor covariance;  // (d, d) float64, unbiased (N − 1)
  std::int64_t count = 0;
};

// features: (N, d); N must exceed d (else the covariance is singular): std::invalid_argument.
GaussianStats gaussian_stats(const at::Tensor& features);

double frechet_distance(const GaussianStats& a, const GaussianStats& b);

// Victim sample quality without a trained feature network: images (N, C, H, W) average-pooled to
// 8 × 8 pixels per channel. Cheap and model-free, comparable only within one dataset.
at::Tensor pooled_pixel_features(const at::Tensor& images);
inline constexpr const char* kPooledPixelExtractor = "pixels-8x8";

}  // namespace ganleaks::metrics
