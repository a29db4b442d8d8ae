#pragma once
// Fashion-MNIST records as the tensors the models take.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>

#include "data/idx.h"

namespace ganleaks::data {

// Rows of the pool as (n, 1, image_size, image_size) float32 in [-1, 1]: pixels scaled by 2/255 - 1, and for
// image_size 32 the 28x28 image padded by 2 pixels of background (-1) on every side.
at::Tensor images_to_tensor(const ImageSet& images, std::span<const std::int64_t> rows, int image_size);

}  // namespace ganleaks::data
