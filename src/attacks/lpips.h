#pragma once
// LPIPS (Zhang et al. 2018) in the pbb/wb reconstruction loss, from a user-supplied TorchScript model: the
// pretrained network weights cannot be downloaded here, so ganleaks ships none (SPEC §1).
//
// Contract of the model file: `model(x, y)` with x, y of shape (B, 3, H, W) in [-1, 1] returns B distances,
// shaped (B) or (B, 1, 1, 1). Grayscale images are repeated to 3 channels. Checked on load with a probe.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>

#include "attacks/perceptual.h"

namespace ganleaks::attacks {

class Lpips final : public PerceptualDistance {
 public:
  // Throws UserError naming the file when it is missing, not TorchScript, or breaks the contract above.
  // The model runs on `device` (the images it is given must be there).
  Lpips(const std::filesystem::path& file, int channels, int image_size, const at::Device& device = at::kCPU);
  ~Lpips() override;
  Lpips(Lpips&&) noexcept;

  // Per-row distances between flattened images a and b, (B, channels * image_size^2) each; differentiable.
  at::Tensor operator()(const at::Tensor& a, const at::Tensor& b) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ganleaks::attacks
