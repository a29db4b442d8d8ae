#pragma once
// Copying a 1-D tensor's values out to a std::vector (results leave LibTorch as plain vectors).
#include <ATen/core/Tensor.h>

#include <vector>

namespace ganleaks::attacks {

template <class T>
std::vector<T> to_vector(const at::Tensor& t) {
  const auto c = t.contiguous();
  return {c.data_ptr<T>(), c.data_ptr<T>() + c.numel()};
}

}  // namespace ganleaks::attacks
