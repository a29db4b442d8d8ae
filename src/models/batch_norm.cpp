#include "models/batch_norm.h"

#include <torch/torch.h>

namespace ganleaks::models {

BatchNorm2dImpl::BatchNorm2dImpl(std::int64_t channels, double momentum, double eps) : momentum_(momentum), eps_(eps) {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4, "BatchNorm2d: expected (B, C, H, W), got ", x.sizes());
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
  }
  if (!is_training() || !group_sum_) {
    return torch::batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum_, eps_,
                             at::globalContext().userEnabledCuDNN());
  }
  // Global statistics: Σx, Σx² per channel and the element count, summed over the group.
  const auto local_count = torch::full({1}, static_cast<double>(x.size(0) * x.size(2) * x.size(3)), x.options());
  const auto totals = group_sum_(torch::cat({x.sum({0, 2, 3}), x.pow(2).sum({0, 2, 3}), local_count}));
  const auto c = x.size(1);
  const auto count = totals[2 * c].detach();
  const auto mean = totals.slice(0, 0, c) / count;
  const auto var = totals.slice(0, c, 2 * c) / count - mean.pow(2);  // biased, as batch norm normalises
  {
    torch::NoGradGuard no_grad;
    const double n = count.item<double>();
    running_mean.mul_(1 - momentum_).add_(mean.detach() * momentum_);
    running_var.mul_(1 - momentum_).add_(var.detach() * (n / std::max(n - 1, 1.0)) * momentum_);
  }
  const auto shape = std::vector<std::int64_t>{1, c, 1, 1};
  return (x - mean.view(shape)) * (var.view(shape) + eps_).rsqrt() * weight.view(shape) + bias.view(shape);
}

void synchronise_batch_norm(torch::nn::Module& module, const GroupSum& sum) {
  for (const auto& child : module.modules(/*include_self=*/true)) {
    if (auto* bn = dynamic_cast<BatchNorm2dImpl*>(child.get())) bn->set_group_sum(sum);
  }
}

}  // namespace ganleaks::models
