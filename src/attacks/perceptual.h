#pragma once
// The perceptual term of the pbb/wb reconstruction loss (GAN-Leaks Sec. 5.3: L = MSE + λ · LPIPS): a per-row
// distance between flattened images, differentiable in both. Two networks fill it (attack.perceptual):
//  - `Lpips` (attacks/lpips.h): a user's TorchScript LPIPS model (Zhang et al. 2018), pretrained weights that
//    cannot be downloaded here;
//  - `ClassifierPerceptual` (below): ganleaks' offline stand-in.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "models/classifier.h"

namespace ganleaks::attacks {

class PerceptualDistance {
 public:
  virtual ~PerceptualDistance() = default;
  // Per-row distances (B) between flattened images a and b, (B, channels · H · W) each, in [-1, 1].
  virtual at::Tensor operator()(const at::Tensor& a, const at::Tensor& b) const = 0;
  // The distances of a to `rows` (B indices) of fixed `targets` (Q, channels · H · W), as a search asks for them
  // at every evaluation; a network may keep what it computed of the targets.
  virtual at::Tensor to_targets(const at::Tensor& a, const at::Tensor& targets, const at::Tensor& rows) const;
};

// LPIPS's formula (Zhang et al. 2018, Eq. 1) on the project's Fashion-MNIST classifier (models/classifier.h)
// in place of an ImageNet network: for its L = 4 convolution blocks, activations f_l (B, C_l, H_l, W_l) are
// unit-normalised over channels at every location, f̂ = f / (‖f‖ + 1e-10) as LPIPS's normalize_tensor, and
//
//     d(x, y) = 1/L · Σ_l  mean_{h,w}  Σ_c (f̂_l(x) − f̂_l(y))²_{c,h,w}
//
// Uniform weights: LPIPS's learned per-channel weights come from human similarity judgements (BAPPS), which
// cannot be had here; with all weights 1 the formula is LPIPS's untrained baseline (`lpips=False`), averaged
// over layers instead of summed so that d ∈ [0, 4]. The classifier is frozen (no parameter gradients) and in
// eval mode: every pair is scored on its own.
//
// to_targets keeps the targets' unit-normalised activations while it is asked about the same targets tensor,
// unchanged (its version counter) and without gradient: a search then runs the classifier on its images only.
class ClassifierPerceptual final : public PerceptualDistance {
 public:
  ClassifierPerceptual(models::Classifier classifier, int channels, int image_size);
  at::Tensor operator()(const at::Tensor& a, const at::Tensor& b) const override;
  at::Tensor to_targets(const at::Tensor& a, const at::Tensor& targets, const at::Tensor& rows) const override;

 private:
  void check(const at::Tensor& a, const at::Tensor& b) const;
  std::vector<at::Tensor> unit_features(const at::Tensor& flat) const;
  at::Tensor distance(const std::vector<at::Tensor>& fa, const std::vector<at::Tensor>& fb) const;

  mutable models::Classifier classifier_;  // forward is not const in LibTorch; the weights are not changed
  int channels_, image_size_;
  mutable at::Tensor targets_;  // the targets whose features are kept, and their version then
  mutable std::uint32_t targets_version_ = 0;
  mutable std::vector<at::Tensor> target_features_;
};

}  // namespace ganleaks::attacks
