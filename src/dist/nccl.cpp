// The NCCL backend (see nccl.h). Compiled only when CMake found NCCL and a CUDA LibTorch.
#include "dist/nccl.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <fmt/format.h>

#include <cstring>
#include <vector>

namespace ganleaks::dist {
namespace {

void check(ncclResult_t rc, const char* operation, int rank) {
  if (rc != ncclSuccess) {
    throw CommError(fmt::format("{} failed on rank {}: {}", operation, rank, ncclGetErrorString(rc)));
  }
}

ncclDataType_t to_nccl(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kLong: return ncclInt64;
    case at::kInt: return ncclInt32;
    default: throw CommError(fmt::format("NCCL all-reduce: unsupported dtype {}", at::toString(type)));
  }
}

ncclRedOp_t to_nccl(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kMin: return ncclMin;
    case ReduceOp::kMax: return ncclMax;
  }
  throw CommError("unknown reduce op");
}

}  // namespace

struct NcclGroup::Impl {
  ncclComm_t comm = nullptr;
  int device = 0;
  int rank = 0;
};

bool NcclGroup::compiled() { return true; }

NcclGroup::NcclGroup(const Comm& group, int device) : impl_(std::make_unique<Impl>()) {
  impl_->device = device;
  impl_->rank = group.rank();
  ncclUniqueId id;
  std::vector<std::byte> blob(sizeof id);
  if (group.is_root()) {
    check(ncclGetUniqueId(&id), "ncclGetUniqueId", group.rank());
    std::memcpy(blob.data(), &id, sizeof id);
  }
  group.broadcast(blob, 0);
  std::memcpy(&id, blob.data(), sizeof id);
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
  check(ncclCommInitRank(&impl_->comm, group.size(), id, group.rank()), "ncclCommInitRank", group.rank());
}

NcclGroup::~NcclGroup() {
  if (impl_ && impl_->comm) ncclCommDestroy(impl_->comm);
}

void NcclGroup::all_reduce(at::Tensor& tensor, ReduceOp op) {
  if (!impl_->comm) throw CommError(fmt::format("ncclAllReduce on rank {}: the communicator was aborted", impl_->rank));
  if (!tensor.is_cuda() || tensor.get_device() != impl_->device || !tensor.is_contiguous()) {
    throw CommError(fmt::format("ncclAllReduce on rank {}: expected a contiguous tensor on cuda:{}", impl_->rank,
                                impl_->device));
  }
  c10::cuda::CUDAGuard guard(tensor.device());
  // LibTorch's current stream: ordered after backward and before the optimizer step without a host sync.
  const auto stream = c10::cuda::getCurrentCUDAStream(tensor.get_device());
  const auto rc = ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<std::size_t>(tensor.numel()),
                                to_nccl(tensor.scalar_type()), to_nccl(op), impl_->comm, stream.stream());
  if (rc != ncclSuccess) {
    ncclCommAbort(impl_->comm);  // the other ranks' pending collectives fail instead of hanging
    impl_->comm = nullptr;
    check(rc, "ncclAllReduce", impl_->rank);
  }
}

}  // namespace ganleaks::dist
