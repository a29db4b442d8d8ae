// Stand-in for the NCCL backend in builds without NCCL or without a CUDA LibTorch (see nccl.h).
#include "dist/nccl.h"
#include <fmt/format.h>

namespace ganleaks::dist {

struct NcclGroup::Impl {};

bool NcclGroup::compiled() { return false; }

NcclGroup::NcclGroup(const Comm& group, int) {
  throw CommError(fmt::format("rank {}: CUDA tensors need the NCCL backend, and this build has none "
                              "(CMake found no NCCL or no CUDA LibTorch)", group.rank()));
}
NcclGroup::~NcclGroup() = default;

void NcclGroup::all_reduce(at::Tensor&, ReduceOp) { throw CommError("NCCL backend not built"); }

}  // namespace ganleaks::dist
