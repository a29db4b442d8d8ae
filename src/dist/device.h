#pragma once
// A rank's compute device (experiment.device) and the one way results leave it. Every job moves its inputs to
// the rank's device once, computes there, and brings results back through to_host; random draws come from the
// seeded CPU streams and are copied to the device (same draws on every device, so CPU and GPU runs differ only in
// arithmetic). Checkpoints and releases hold CPU tensors and load onto any device (models/archive.h).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>
#include <string_view>

namespace ganleaks::dist {

// "cpu"; "cuda": the GPU local_rank mod (GPUs this process sees), a UserError (exit 2) without a usable one;
// "auto": that GPU when CUDA is usable, else the CPU.
at::Device choose_device(std::string_view wanted, int local_rank);
// How many GPUs this process can use (0 without CUDA, or in a build whose LibTorch has none).
int usable_gpus();

// Process-wide arithmetic on `device` (a no-op on the CPU): deterministic cuDNN/cuBLAS algorithms and no TF32
// when `deterministic`; TF32 on or off otherwise.
void configure_arithmetic(const at::Device& device, bool deterministic, bool tf32);

// The tensor's values on the host (contiguous): where results leave the device.
at::Tensor to_host(const at::Tensor& tensor);
// Scalars through to_host.
double host_double(const at::Tensor& scalar);
bool host_bool(const at::Tensor& scalar);

}  // namespace ganleaks::dist
