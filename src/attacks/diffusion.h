#pragma once
// Membership signals of diffusion models (issue #21; docs/attacks.md, "Diffusion models"), from the released
// model's noise prediction ε_θ (models/ddpm.h). Each returns a per-query loss, lower = more likely a member, computed
// for every query on its own (GroupNorm has no batch coupling), in eval mode without gradients. Errors are means over
// the image's values: the references' sums divided by C·H·W, which ranks queries the same.
#include <ATen/core/Tensor.h>

#include <vector>

#include "models/ddpm.h"

namespace ganleaks::attacks {

// The denoising loss (Matsumoto et al. 2023; Carlini et al. 2023): the mean over timesteps t and draws of
// mean ‖ε − ε_θ(√ᾱ_t x₀ + √(1 − ᾱ_t) ε, t)‖². queries (B, C, H, W); noise (B, timesteps × draws, C, H, W), the
// draws of timestep i at [i · draws, (i + 1) · draws).
std::vector<double> denoising_loss(models::DdpmImpl& model, const at::Tensor& queries, const std::vector<int>& timesteps,
                                   const at::Tensor& noise);

// SecMI's t-error (Duan et al. 2023, SecMI_stat): x_{t_SEC} by deterministic DDIM inversion of x₀ in steps of k
// (from t = 0, x₀ taken as x_0), one more inversion step to t_SEC + k and one DDIM step back; the loss is
// mean ‖x̃_{t_SEC} − x_{t_SEC}‖².
std::vector<double> secmi_error(models::DdpmImpl& model, const at::Tensor& queries, int t_sec, int interval);

// PIA (Kong et al. 2024): ε₀ = ε_θ(x₀, 0), x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε₀, the loss mean |ε₀ − ε_θ(x_t, t)|^p.
std::vector<double> pia_error(models::DdpmImpl& model, const at::Tensor& queries, int t, double p);

}  // namespace ganleaks::attacks
