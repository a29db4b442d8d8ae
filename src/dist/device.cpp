#include "dist/device.h"

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <cstdlib>

#include "core/errors.h"

namespace ganleaks::dist {

int usable_gpus() { return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

at::Device choose_device(std::string_view wanted, int local_rank) {
  if (wanted == "cpu") return at::kCPU;
  const int gpus = usable_gpus();
  if (gpus == 0) {
    if (wanted == "auto") return at::kCPU;
    throw UserError(fmt::format("experiment.device = \"cuda\", but this process sees no usable GPU ({}); use \"auto\" "
                                "or \"cpu\", or run where CUDA_VISIBLE_DEVICES names a GPU",
                                at::hasCUDA() ? "CUDA found no device" : "this LibTorch has no CUDA"));
  }
  if (wanted != "auto" && wanted != "cuda") {
    throw UserError(fmt::format("experiment.device = \"{}\": expected \"auto\", \"cpu\" or \"cuda\"", wanted));
  }
  // srun --gpus-per-task=1 shows each rank one GPU (index 0); under mpirun every rank sees all of its node's.
  return {at::kCUDA, static_cast<c10::DeviceIndex>(local_rank % gpus)};
}

void configure_arithmetic(const at::Device& device, bool deterministic, bool tf32) {
  if (!device.is_cuda()) return;
  auto& context = at::globalContext();
  if (deterministic) {
    // cuBLAS is deterministic only with a fixed workspace (NVIDIA's cuBLAS docs, "Results reproducibility"); it must
    // be set before the first cuBLAS call.
    ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
    // An op with no deterministic CUDA kernel warns (once, on stderr) instead of ending a run hours in: the warning
    // names what breaks the promise, which bench/device-check's log shows.
    context.setDeterministicAlgorithms(true, /*warn_only=*/true);
  }
  context.setDeterministicCuDNN(deterministic);
  context.setBenchmarkCuDNN(!deterministic);
  const bool use_tf32 = tf32 && !deterministic;
  context.setAllowTF32CuBLAS(use_tf32);
  context.setAllowTF32CuDNN(use_tf32);
}

at::Tensor to_host(const at::Tensor& tensor) {
  return tensor.to(at::kCPU).contiguous();
}

double host_double(const at::Tensor& scalar) { return to_host(scalar).item<double>(); }
bool host_bool(const at::Tensor& scalar) { return to_host(scalar).item<bool>(); }

}  // namespace ganleaks::dist
