#include "attacks/perceptual.h"

#include <torch/torch.h>

namespace ganleaks::attacks {

ClassifierPerceptual::ClassifierPerceptual(models::Classifier classifier, int channels, int image_size)
    : classifier_(std::move(classifier)), channels_(channels), image_size_(image_size) {
  classifier_->eval();
  for (auto& p : classifier_->parameters()) p.requires_grad_(false);  // gradients reach the images only
}

at::Tensor PerceptualDistance::to_targets(const at::Tensor& a, const at::Tensor& targets, const at::Tensor& rows) const {
  return (*this)(a, targets.index_select(0, rows));
}

void ClassifierPerceptual::check(const at::Tensor& a, const at::Tensor& b) const {
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1) && a.size(1) == channels_ * image_size_ * image_size_,
              "ClassifierPerceptual: expected batches of flattened images (B, ", channels_ * image_size_ * image_size_,
              "), got ", a.sizes(), " and ", b.sizes());
}

std::vector<at::Tensor> ClassifierPerceptual::unit_features(const at::Tensor& flat) const {
  auto features = classifier_->block_outputs(flat.reshape({flat.size(0), channels_, image_size_, image_size_}));
  for (auto& f : features) f = f / (f.square().sum(1, /*keepdim=*/true).sqrt() + 1e-10);
  return features;
}

at::Tensor ClassifierPerceptual::distance(const std::vector<at::Tensor>& fa, const std::vector<at::Tensor>& fb) const {
  auto total = torch::zeros({fa.front().size(0)}, fa.front().options());
  for (std::size_t l = 0; l < fa.size(); ++l) total = total + (fa[l] - fb[l]).square().sum(1).mean({1, 2});
  return total / static_cast<double>(fa.size());
}

at::Tensor ClassifierPerceptual::operator()(const at::Tensor& a, const at::Tensor& b) const {
  check(a, b);
  TORCH_CHECK(a.size(0) == b.size(0), "ClassifierPerceptual: ", a.size(0), " images against ", b.size(0));
  return distance(unit_features(a), unit_features(b));
}

at::Tensor ClassifierPerceptual::to_targets(const at::Tensor& a, const at::Tensor& targets, const at::Tensor& rows) const {
  check(a, targets);
  if (targets.requires_grad()) return (*this)(a, targets.index_select(0, rows));  // nothing kept that needs a graph
  if (!targets.is_same(targets_) || targets._version() != targets_version_) {
    torch::NoGradGuard no_grad;
    target_features_ = unit_features(targets);
    targets_ = targets;
    targets_version_ = targets._version();
  }
  std::vector<at::Tensor> selected;
  for (const auto& f : target_features_) selected.push_back(f.index_select(0, rows));
  return distance(unit_features(a), selected);
}

}  // namespace ganleaks::attacks
