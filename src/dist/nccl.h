#pragma once
// NCCL for CUDA tensors: one NCCL communicator per rank group, its unique id made by the group's rank 0 and
// broadcast over MPI, collectives on the tensor's current CUDA stream. CMake compiles nccl.cpp when it
// finds NCCL and a CUDA build of LibTorch, else nccl_unavailable.cpp (whose constructor throws): the
// backend is chosen at build time, never by #if inside the code that uses it.
#include <ATen/core/Tensor.h>

#include <memory>

#include "dist/comm.h"

namespace ganleaks::dist {

class NcclGroup {
 public:
  static bool compiled();  // this build has the NCCL backend (a rank's GPU: dist/device.h)

  // Collective over `group`. Throws CommError naming the NCCL call and the rank on failure.
  NcclGroup(const Comm& group, int device);
  ~NcclGroup();
  NcclGroup(const NcclGroup&) = delete;
  NcclGroup& operator=(const NcclGroup&) = delete;

  // In place; `tensor` must be contiguous, on this group's device.
  void all_reduce(at::Tensor& tensor, ReduceOp op);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ganleaks::dist
