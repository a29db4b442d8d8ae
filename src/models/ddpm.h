#pragma once
// The DDPM victim (issue #21; Ho et al. 2020, ε-prediction): the noise-prediction U-Net (models/unet.h) and the
// noise schedule (models/diffusion_schedule.h). The trainer optimises one U-Net (Networks::denoiser) and keeps an
// exponential moving average of its weights here, in the generator: the released model, as in Ho et al.'s code.
// As a GeneratorBase it maps a latent — x_T, the C × 32 × 32 starting noise, flattened — to a sample by
// deterministic DDIM (Song et al. 2021, η = 0, clipped x̂₀), so that the sample-based attacks (fbb, mc, DOMIAS) and
// the sample quality treat it as any generator: sample i depends on its latent alone.
#include <ATen/core/Generator.h>
#include <torch/nn/module.h>

#include "models/diffusion_schedule.h"
#include "models/networks.h"
#include "models/unet.h"

namespace ganleaks::models {

struct DdpmOptions {
  UnetOptions unet;
  BetaSchedule schedule = BetaSchedule::kLinear;
  int steps = 1000;          // T
  int sampling_steps = 50;   // DDIM steps of forward(), at most T
};

class DdpmImpl : public GeneratorBase {
 public:
  explicit DdpmImpl(const DdpmOptions& options);
  // Latents (B, C·32·32) as x_T → samples (B, C, 32, 32) in [−1, 1] by options.sampling_steps DDIM steps.
  at::Tensor forward(const at::Tensor& z) override;
  int z_dim() const override { return options_.unet.channels * 32 * 32; }

  // ε_θ(x_t, t) of the averaged weights, one timestep t for every row of x_t (B, C, 32, 32).
  at::Tensor predict_noise(const at::Tensor& x_t, int t);
  // DDPM's ancestral sampler over all T steps from x_T (B, C, 32, 32), the normal draws taken from `noise` (a CPU
  // stream, moved to the weights' device).
  at::Tensor sample_ancestral(const at::Tensor& x_T, at::Generator& noise);

  // average ← decay · average + (1 − decay) · trained, parameter by parameter (decay 0 copies).
  void update_average(UnetImpl& trained, double decay);

  const NoiseSchedule& schedule() const { return schedule_; }
  // ᾱ_t for t = 0 .. T − 1 as a float32 tensor on `device` (the trainer indexes it by a batch's timesteps).
  at::Tensor alpha_bars(const at::Device& device) const;
  const DdpmOptions& options() const { return options_; }

 private:
  DdpmOptions options_;
  NoiseSchedule schedule_;
  Unet average_{nullptr};
};
TORCH_MODULE(Ddpm);

}  // namespace ganleaks::models
