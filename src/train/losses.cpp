#include "train/losses.h"

#include <torch/torch.h>

namespace ganleaks::train {

at::Tensor gradient_penalty(const std::function<at::Tensor(const at::Tensor&)>& critic, const at::Tensor& real,
                            const at::Tensor& fake, const at::Tensor& epsilon) {
  TORCH_CHECK(real.sizes() == fake.sizes() && epsilon.dim() == 1 && epsilon.size(0) == real.size(0),
              "gradient_penalty: real ", real.sizes(), ", fake ", fake.sizes(), " and epsilon ", epsilon.sizes(),
              " must have one row each per sample");
  auto shape = std::vector<std::int64_t>(real.dim(), 1);
  shape[0] = real.size(0);
  const auto e = epsilon.view(shape);
  const auto mixed = (e * real.detach() + (1 - e) * fake.detach()).requires_grad_(true);
  const auto scores = critic(mixed);
  const auto grads = torch::autograd::grad({scores.sum()}, {mixed}, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                           /*create_graph=*/true)[0];
  return (grads.flatten(1).norm(2, 1) - 1).pow(2);
}

}  // namespace ganleaks::train
