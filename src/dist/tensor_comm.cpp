#include "dist/tensor_comm.h"

#include <torch/autograd.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include "dist/nccl.h"

namespace ganleaks::dist {

TensorComm::TensorComm(const Comm& group, std::size_t bucket_bytes) : group_(group), bucket_bytes_(bucket_bytes) {}
TensorComm::~TensorComm() = default;

void TensorComm::reduce_flat(at::Tensor& flat, ReduceOp op) {
  if (flat.is_cuda()) {
    if (!nccl_) nccl_ = std::make_unique<NcclGroup>(group_, flat.get_device());
    nccl_->all_reduce(flat, op);
    return;
  }
  const auto n = static_cast<std::size_t>(flat.numel());
  switch (flat.scalar_type()) {
    case at::kFloat: group_.all_reduce(std::span(flat.data_ptr<float>(), n), op); return;
    case at::kDouble: group_.all_reduce(std::span(flat.data_ptr<double>(), n), op); return;
    case at::kLong: group_.all_reduce(std::span(flat.data_ptr<std::int64_t>(), n), op); return;
    default:
      throw CommError(fmt::format("all-reduce on rank {}: unsupported CPU dtype {}", group_.rank(),
                                  at::toString(flat.scalar_type())));
  }
}

int TensorComm::all_reduce(std::vector<at::Tensor>& tensors, ReduceOp op) {
  if (group_.size() == 1) return 0;
  torch::NoGradGuard no_grad;
  int buckets = 0;
  for (std::size_t begin = 0; begin < tensors.size();) {
    const auto& first = tensors[begin];
    std::size_t end = begin, bytes = 0;
    while (end < tensors.size() && tensors[end].scalar_type() == first.scalar_type() &&
           tensors[end].device() == first.device() &&
           (end == begin || bytes + tensors[end].nbytes() <= bucket_bytes_)) {
      bytes += tensors[end].nbytes();
      ++end;
    }
    std::vector<at::Tensor> flat_parts;
    for (std::size_t i = begin; i < end; ++i) flat_parts.push_back(tensors[i].reshape({-1}));
    auto flat = at::cat(flat_parts).contiguous();
    reduce_flat(flat, op);
    std::int64_t offset = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const auto count = tensors[i].numel();
      tensors[i].copy_(flat.slice(0, offset, offset + count).view(tensors[i].sizes()));
      offset += count;
    }
    ++buckets;
    begin = end;
  }
  return buckets;
}

namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct AllReduceSum : torch::autograd::Function<AllReduceSum> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, TensorComm* comm) {
    ctx->saved_data["comm"] = reinterpret_cast<std::int64_t>(comm);
    std::vector<at::Tensor> out{x.clone()};
    comm->all_reduce(out);
    return out[0];
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto* comm = reinterpret_cast<TensorComm*>(ctx->saved_data["comm"].toInt());
    std::vector<at::Tensor> grad{grad_outputs[0].clone()};
    comm->all_reduce(grad);
    return {grad[0], {}};
  }
};
}  // namespace

at::Tensor TensorComm::all_reduce_sum_differentiable(const at::Tensor& x) {
  if (group_.size() == 1) return x;
  return AllReduceSum::apply(x, this);
}

}  // namespace ganleaks::dist
