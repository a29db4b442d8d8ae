#include "models/ddpm.h"

#include <torch/torch.h>

namespace ganleaks::models {

DdpmImpl::DdpmImpl(const DdpmOptions& options)
    : options_(options),
      schedule_(options.schedule, options.steps),
      average_(register_module("average", Unet(options.unet))) {
  TORCH_CHECK(options.sampling_steps >= 1 && options.sampling_steps <= options.steps, "Ddpm: sampling_steps ",
              options.sampling_steps, " outside [1, ", options.steps, "]");
}

at::Tensor DdpmImpl::predict_noise(const at::Tensor& x_t, int t) {
  TORCH_CHECK(t >= 0 && t < options_.steps, "Ddpm: timestep ", t, " outside [0, ", options_.steps, ")");
  return average_->forward(x_t, torch::full({x_t.size(0)}, t, torch::TensorOptions().dtype(torch::kLong).device(x_t.device())));
}

at::Tensor DdpmImpl::forward(const at::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == z_dim(), "Ddpm: expected latents of shape (B, ", z_dim(), "), got ", z.sizes());
  auto x = z.view({z.size(0), options_.unet.channels, 32, 32});
  const auto timesteps = ddim_timesteps(options_.steps, options_.sampling_steps);
  const at::Tensor unused;  // η = 0 draws nothing
  for (std::size_t i = 0; i < timesteps.size(); ++i) {
    const int t = timesteps[i], next = i + 1 < timesteps.size() ? timesteps[i + 1] : -1;
    x = ddim_step(schedule_, t, next, x, predict_noise(x, t), /*eta=*/0.0, unused, /*clip=*/true);
  }
  return x.clamp(-1, 1);
}

at::Tensor DdpmImpl::sample_ancestral(const at::Tensor& x_T, at::Generator& noise) {
  auto x = x_T;
  for (int t = options_.steps - 1; t >= 0; --t) {
    const auto z = torch::randn(x.sizes(), noise, torch::TensorOptions().dtype(x.scalar_type())).to(x.device());
    x = ddpm_step(schedule_, t, x, predict_noise(x, t), z, /*clip=*/true);
  }
  return x.clamp(-1, 1);
}

at::Tensor DdpmImpl::alpha_bars(const at::Device& device) const {
  std::vector<double> values;
  for (int t = 0; t < options_.steps; ++t) values.push_back(schedule_.alpha_bar(t));
  return torch::tensor(values, torch::kFloat64).to(torch::kFloat32).to(device);
}

void DdpmImpl::update_average(UnetImpl& trained, double decay) {
  torch::NoGradGuard no_grad;
  const auto average = average_->parameters(), current = trained.parameters();
  TORCH_CHECK(average.size() == current.size(), "Ddpm: the averaged and trained U-Nets differ in shape");
  for (std::size_t i = 0; i < average.size(); ++i) average[i].mul_(decay).add_(current[i], 1 - decay);
}

}  // namespace ganleaks::models
