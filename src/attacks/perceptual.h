#pragma once
// The perceptual term of the pbb/wb reconstruction loss (GAN-Leaks Sec. 5.3: L = MSE + λ · LPIPS): a per-row
// distance between flattened images, differentiable in both. Two networks fill it (attack.perceptual):
//  - `Lpips` (attacks/lpips.h): a user's TorchScript LPIPS model (Zhang et al. 2018), pretrained weights that
//    cannot be downloaded here;
//  - `ClassifierPerceptual` (below): ganleaks' offline stand-in.
#include <ATen/core/Tensor.h>

#include "models/classifier.h"

namespace ganleaks::attacks {

class PerceptualDistance {
 public:
  virtual ~PerceptualDistance() = default;
  // Per-row distances (B) between flattened images a and b, (B, channels · H · W) each, in [-1, 1].
  virtual at::Tensor operator()(const at::Tensor& a, const at::Tensor& b) const = 0;
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
class ClassifierPerceptual final : public PerceptualDistance {
 public:
  ClassifierPerceptual(models::Classifier classifier, int channels, int image_size);
  at::Tensor operator()(const at::Tensor& a, const at::Tensor& b) const override;

 private:
  mutable models::Classifier classifier_;  // forward is not const in LibTorch; the weights are not changed
  int channels_, image_size_;
};

}  // namespace ganleaks::attacks
