#include "attacks/perceptual.h"

#include <torch/torch.h>

namespace ganleaks::attacks {

ClassifierPerceptual::ClassifierPerceptual(models::Classifier classifier, int channels, int image_size)
    : classifier_(std::move(classifier)), channels_(channels), image_size_(image_size) {
  classifier_->eval();
  for (auto& p : classifier_->parameters()) p.requires_grad_(false);  // gradients reach the images only
}

at::Tensor ClassifierPerceptual::operator()(const at::Tensor& a, const at::Tensor& b) const {
  TORCH_CHECK(a.dim() == 2 && a.sizes() == b.sizes() && a.size(1) == channels_ * image_size_ * image_size_,
              "ClassifierPerceptual: expected two (B, ", channels_ * image_size_ * image_size_,
              ") batches of flattened images, got ", a.sizes(), " and ", b.sizes());
  const auto images = [&](const at::Tensor& flat) { return flat.reshape({flat.size(0), channels_, image_size_, image_size_}); };
  const auto fa = classifier_->block_outputs(images(a)), fb = classifier_->block_outputs(images(b));
  const auto unit = [](const at::Tensor& f) { return f / (f.square().sum(1, /*keepdim=*/true).sqrt() + 1e-10); };
  auto total = torch::zeros({a.size(0)}, a.options());
  for (std::size_t l = 0; l < fa.size(); ++l) total = total + (unit(fa[l]) - unit(fb[l])).square().sum(1).mean({1, 2});
  return total / static_cast<double>(fa.size());
}

}  // namespace ganleaks::attacks
