#pragma once
// Copying a 1-D tensor's values out to a std::vector (results leave LibTorch, and the device, as plain vectors).
#include <ATen/core/Tensor.h>

#include <vector>

#include "dist/device.h"

namespace ganleaks::attacks {

template <class T>
std::vector<T> to_vector(const at::Tensor& t) {
  const auto c = dist::to_host(t);
  return {c.data_ptr<T>(), c.data_ptr<T>() + c.numel()};
}

}  // namespace ganleaks::attacks
