#pragma once
// The gradient penalty of WGAN-GP and PGGAN; the other objectives are short enough to live in trainer.cpp.
#include <ATen/core/Tensor.h>

#include <functional>

namespace ganleaks::train {

// WGAN-GP's gradient penalty (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", Alg. 1): per
// row i, x̂ᵢ = εᵢ realᵢ + (1 − εᵢ) fakeᵢ and the penalty (‖∇ₓ D(x̂ᵢ)‖₂ − 1)². Returns the (B) penalties,
// differentiable with respect to the critic's parameters (the gradient is taken with create_graph, so the
// step's backward is a double backward). The critic must score rows independently (no batch norm).
at::Tensor gradient_penalty(const std::function<at::Tensor(const at::Tensor&)>& critic, const at::Tensor& real,
                            const at::Tensor& fake, const at::Tensor& epsilon);

}  // namespace ganleaks::train
