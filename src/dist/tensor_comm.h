#pragma once
// Collectives over LibTorch tensors within one rank group (the ranks that train one model together): CPU
// tensors over MPI (dist::Comm), CUDA tensors over NCCL (dist/nccl.h). Gradients are all-reduced in fused
// buckets, as PyTorch's DDP does: consecutive tensors of one dtype and device packed into one buffer of at
// most bucket_bytes, one collective per bucket. A group of one rank does nothing.
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "dist/comm.h"

namespace ganleaks::dist {

class NcclGroup;

class TensorComm {
 public:
  static constexpr std::size_t kDefaultBucketBytes = std::size_t{25} << 20;  // DDP's default

  // `group` must outlive this object.
  explicit TensorComm(const Comm& group, std::size_t bucket_bytes = kDefaultBucketBytes);
  ~TensorComm();
  TensorComm(const TensorComm&) = delete;
  TensorComm& operator=(const TensorComm&) = delete;

  int rank() const { return group_.rank(); }
  int size() const { return group_.size(); }
  const Comm& group() const { return group_; }

  // Reduces every tensor over the group, in place. Every rank passes tensors of the same shapes in the
  // same order. Returns the number of collectives issued (buckets).
  int all_reduce(std::vector<at::Tensor>& tensors, ReduceOp op = ReduceOp::kSum);

  // Sum over the group that autograd can differentiate: its gradient is the sum of the gradients of all
  // ranks (each rank's output depends on every rank's input). For synchronised batch statistics.
  at::Tensor all_reduce_sum_differentiable(const at::Tensor& x);

 private:
  void reduce_flat(at::Tensor& flat, ReduceOp op);

  const Comm& group_;
  std::size_t bucket_bytes_;
  std::unique_ptr<NcclGroup> nccl_;  // made on the first CUDA tensor
};

}  // namespace ganleaks::dist
