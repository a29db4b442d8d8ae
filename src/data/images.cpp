#include "data/images.h"

#include <torch/torch.h>

namespace ganleaks::data {

at::Tensor images_to_tensor(const ImageSet& images, std::span<const std::int64_t> rows, int image_size) {
  TORCH_CHECK(image_size >= images.rows && image_size >= images.cols && (image_size - images.rows) % 2 == 0,
              "images_to_tensor: cannot pad ", images.rows, "x", images.cols, " to ", image_size);
  const auto n = static_cast<std::int64_t>(rows.size());
  // host: the pool lives in host memory; jobs move the rows they use to their device.
  const auto all = torch::from_blob(const_cast<std::uint8_t*>(images.pixels.data()),
                                    {images.count, images.rows, images.cols}, torch::kUInt8);
  const auto index = torch::from_blob(const_cast<std::int64_t*>(rows.data()), {n}, torch::kInt64);
  TORCH_CHECK(n == 0 || (index.min().item<std::int64_t>() >= 0 && index.max().item<std::int64_t>() < images.count),
              "images_to_tensor: row index outside [0, ", images.count, ")");
  auto x = all.index_select(0, index).to(torch::kFloat32).mul(2.0 / 255.0).sub(1.0).unsqueeze(1);
  const auto pad = (image_size - images.rows) / 2;
  if (pad > 0) {
    x = torch::constant_pad_nd(x, {pad, pad, pad, pad}, -1.0);
  }
  return x.contiguous();
}

}  // namespace ganleaks::data
