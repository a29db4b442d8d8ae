#include "attacks/diffusion.h"

#include <torch/torch.h>

#include "attacks/tensor_vectors.h"

namespace ganleaks::attacks {
namespace {

void check_queries(const models::DdpmImpl& model, const at::Tensor& queries, const char* attack) {
  TORCH_CHECK(queries.dim() == 4 && queries.size(1) == model.options().unet.channels && queries.size(2) == 32 &&
                  queries.size(3) == 32,
              attack, ": expected images of shape (B, ", model.options().unet.channels, ", 32, 32), got ",
              queries.sizes());
}

// Per row of (B, ...): the mean over its values, as float64 on the host.
std::vector<double> row_means(const at::Tensor& values) {
  return to_vector<double>(values.flatten(1).mean(1).to(torch::kFloat64));
}

}  // namespace

std::vector<double> denoising_loss(models::DdpmImpl& model, const at::Tensor& queries, const std::vector<int>& timesteps,
                                   const at::Tensor& noise) {
  check_queries(model, queries, "denoising_loss");
  const auto b = queries.size(0), per_query = noise.size(1);
  TORCH_CHECK(!timesteps.empty() && noise.dim() == 5 && noise.size(0) == b && per_query % static_cast<std::int64_t>(timesteps.size()) == 0,
              "denoising_loss: expected noise of shape (", b, ", timesteps × draws, C, H, W), got ", noise.sizes());
  torch::NoGradGuard no_grad;
  model.eval();
  const auto draws = per_query / static_cast<std::int64_t>(timesteps.size());
  auto total = torch::zeros({b}, queries.options().dtype(torch::kFloat64));
  for (std::size_t i = 0; i < timesteps.size(); ++i) {
    for (std::int64_t d = 0; d < draws; ++d) {
      const auto eps = noise.select(1, static_cast<std::int64_t>(i) * draws + d).to(queries.device());
      const auto x_t = models::noised(model.schedule(), timesteps[i], queries, eps);
      total += (model.predict_noise(x_t, timesteps[i]) - eps).square().flatten(1).mean(1).to(torch::kFloat64);
    }
  }
  return to_vector<double>(total / static_cast<double>(per_query));
}

std::vector<double> secmi_error(models::DdpmImpl& model, const at::Tensor& queries, int t_sec, int interval) {
  check_queries(model, queries, "secmi_error");
  TORCH_CHECK(interval > 0 && t_sec % interval == 0 && t_sec + interval < model.options().steps,
              "secmi_error: t_SEC ", t_sec, " must be a multiple of k = ", interval, " with t_SEC + k below T");
  torch::NoGradGuard no_grad;
  model.eval();
  const auto& s = model.schedule();
  const at::Tensor unused;
  // Deterministic DDIM (η = 0, no clipping) from t to t_next, either way.
  const auto step = [&](const at::Tensor& x, int t, int t_next) {
    return models::ddim_step(s, t, t_next, x, model.predict_noise(x, t), 0.0, unused, /*clip=*/false);
  };
  auto x = queries;
  for (int t = 0; t < t_sec; t += interval) x = step(x, t, t + interval);
  const auto away = step(x, t_sec, t_sec + interval);
  return row_means((step(away, t_sec + interval, t_sec) - x).square());
}

std::vector<double> pia_error(models::DdpmImpl& model, const at::Tensor& queries, int t, double p) {
  check_queries(model, queries, "pia_error");
  torch::NoGradGuard no_grad;
  model.eval();
  const auto eps0 = model.predict_noise(queries, 0);
  const auto x_t = models::noised(model.schedule(), t, queries, eps0);
  return row_means((eps0 - model.predict_noise(x_t, t)).abs().pow(p));
}

}  // namespace ganleaks::attacks
