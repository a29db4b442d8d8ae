#pragma once
// BatchNorm2d that can take its batch statistics over a data-parallel rank group (synchronised batch norm),
// so that a generator trained on W ranks normalises by the statistics of the global batch, as on one rank.
// Without a group (or in eval mode) it is LibTorch's batch norm: same parameter and buffer names, same
// computation. The group enters as a differentiable sum (dist::TensorComm), so models stay free of dist.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <functional>

namespace ganleaks::models {

// x ↦ Σ over the group of x, differentiable (its gradient is the group's sum of gradients).
using GroupSum = std::function<at::Tensor(const at::Tensor&)>;

class BatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit BatchNorm2dImpl(std::int64_t channels, double momentum = 0.1, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  void set_group_sum(GroupSum sum) { group_sum_ = std::move(sum); }

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  double momentum_, eps_;
  GroupSum group_sum_;
};
TORCH_MODULE(BatchNorm2d);

// Gives every BatchNorm2d inside `module` the group's sum (an empty function: back to local statistics).
void synchronise_batch_norm(torch::nn::Module& module, const GroupSum& sum);

}  // namespace ganleaks::models
