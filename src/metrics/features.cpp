#include "metrics/features.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "core/errors.h"
#include "dist/device.h"

namespace ganleaks::metrics {

namespace {

std::string first_line(const std::exception& e) {
  const std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

void check_images(const at::Tensor& images, const char* who) {
  TORCH_CHECK(images.dim() == 4, who, ": expected images of shape (B, C, H, W), got ", images.sizes());
}

}  // namespace

// ---- the project's classifier ----

ClassifierExtractor::ClassifierExtractor(models::Classifier classifier, ClassifierExtractorOptions options)
    : classifier_(std::move(classifier)), options_(std::move(options)) {
  TORCH_CHECK(options_.batch_size > 0, "ClassifierExtractor: batch_size must be positive");
  classifier_->eval();
}

std::string ClassifierExtractor::name() const {
  std::string lower = options_.dataset;
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return fmt::format("{}-classifier-{}d", lower, dim());
}

std::string ClassifierExtractor::label() const { return fmt::format("FID ({}-classifier features)", options_.dataset); }

std::int64_t ClassifierExtractor::dim() const { return classifier_->options().feature_dim; }

at::Tensor ClassifierExtractor::features(const at::Tensor& images) {
  check_images(images, "ClassifierExtractor");
  torch::NoGradGuard no_grad;
  classifier_->eval();
  std::vector<at::Tensor> parts;
  for (std::int64_t start = 0; start < images.size(0); start += options_.batch_size) {
    const auto batch = images.slice(0, start, start + options_.batch_size).to(torch::kFloat32);
    parts.push_back(classifier_->features(batch));
  }
  return parts.empty() ? torch::empty({0, dim()}, images.options().dtype(torch::kFloat32)) : torch::cat(parts);
}

std::vector<std::int64_t> ClassifierExtractor::predict_classes(const at::Tensor& images) {
  const auto classes = dist::to_host(models::classifier_predictions(classifier_, images));
  return {classes.data_ptr<std::int64_t>(), classes.data_ptr<std::int64_t>() + classes.numel()};
}

// ---- a user's TorchScript network ----

struct TorchScriptExtractor::Impl {
  std::filesystem::path file;
  TorchScriptOptions options;
  torch::jit::script::Module module;
  std::int64_t dim = 0;

  std::string where() const { return file.string(); }

  // Images as the network takes them: channels, size, range.
  at::Tensor prepare(const at::Tensor& images) const {
    auto x = images.to(options.device, torch::kFloat32);
    const bool gray_to_rgb = x.size(1) == 1 && options.channels == 3;
    if (x.size(1) != options.channels && !gray_to_rgb) {
      throw UserError(fmt::format("{}: the network takes {}-channel images; cannot feed {}-channel ones", where(),
                                  options.channels, x.size(1)));
    }
    if (options.input_size > 0 && (x.size(2) != options.input_size || x.size(3) != options.input_size)) {
      namespace F = torch::nn::functional;
      x = F::interpolate(x, F::InterpolateFuncOptions()
                                .size(std::vector<std::int64_t>{options.input_size, options.input_size})
                                .mode(torch::kBilinear)
                                .align_corners(false));
    }
    if (gray_to_rgb) x = x.expand({x.size(0), 3, x.size(2), x.size(3)});
    if (options.input_range == InputRange::kZeroToOne) x = (x + 1.0) * 0.5;
    return x.contiguous();
  }

  // The network's output as (B, d) float32, or UserError saying what came back instead.
  at::Tensor run(const at::Tensor& input) {
    const auto out = module.forward({input});
    at::Tensor features;
    if (out.isTensor()) {
      features = out.toTensor();
    } else if (out.isTuple() || out.isList()) {
      const auto items = out.isTuple() ? out.toTupleRef().elements().vec() : out.toList().vec();
      int tensors = 0;
      for (const auto& item : items) {
        if (item.isTensor()) {
          features = item.toTensor();
          ++tensors;
        } else if (!item.isNone()) {
          tensors = -1;
          break;
        }
      }
      if (tensors != 1) {
        throw UserError(fmt::format("{}: the network returned a {} that does not hold exactly one tensor (and Nones); "
                                    "expected features (B, d) or (B, d, 1, 1)",
                                    where(), out.tagKind()));
      }
    } else {
      throw UserError(fmt::format("{}: the network returned a {}; expected features (B, d) or (B, d, 1, 1)", where(),
                                  out.tagKind()));
    }
    const auto b = input.size(0);
    const bool flat = features.dim() == 2 && features.size(0) == b;
    const bool pooled = features.dim() == 4 && features.size(0) == b && features.size(2) == 1 && features.size(3) == 1;
    if (!(flat || pooled) || !features.is_floating_point()) {
      throw UserError(fmt::format("{}: the network returned {} [{}] for {} images; expected float features ({}, d) or "
                                  "({}, d, 1, 1)",
                                  where(), std::string(c10::toString(features.scalar_type())),
                                  fmt::join(features.sizes(), ", "), b, b, b));
    }
    return features.reshape({b, features.size(1)}).to(torch::kFloat32);
  }
};

TorchScriptExtractor::TorchScriptExtractor(const std::filesystem::path& file, TorchScriptOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = file;
  impl_->options = std::move(options);
  const auto& o = impl_->options;
  if (o.channels != 1 && o.channels != 3) {
    throw UserError(fmt::format("{}: feature network channels must be 1 or 3, got {}", file.string(), o.channels));
  }
  if (o.input_size < 0 || o.batch_size < 1 || o.expected_dim < 0) {
    throw UserError(fmt::format("{}: feature network input_size must be >= 0, batch_size >= 1, expected_dim >= 0",
                                file.string()));
  }
  if (!std::filesystem::is_regular_file(file)) {
    throw UserError(fmt::format("{}: no such file; expected a TorchScript feature network", file.string()));
  }
  try {
    impl_->module = torch::jit::load(file.string(), impl_->options.device);
  } catch (const std::exception& e) {
    throw UserError(fmt::format("{}: not a loadable TorchScript model ({})", file.string(), first_line(e)));
  }
  impl_->module.eval();
  // Probe with two images of the size the network takes (32 x 32 when it takes them as given).
  torch::NoGradGuard no_grad;
  const int size = o.input_size > 0 ? o.input_size : 32;
  // host: a probe batch; prepare() moves it to the network's device.
  const auto probe = torch::linspace(-1, 1, 2 * o.channels * size * size).reshape({2, o.channels, size, size});
  at::Tensor out;
  try {
    out = impl_->run(impl_->prepare(probe));
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw UserError(fmt::format("{}: fails on (2, {}, {}, {}) images ({})", file.string(), o.channels, size, size,
                                first_line(e)));
  }
  impl_->dim = out.size(1);
  if (o.expected_dim > 0 && impl_->dim != o.expected_dim) {
    throw UserError(fmt::format("{}: the network gives {}-d features; expected {}-d", file.string(), impl_->dim,
                                o.expected_dim));
  }
}

TorchScriptExtractor::~TorchScriptExtractor() = default;
TorchScriptExtractor::TorchScriptExtractor(TorchScriptExtractor&&) noexcept = default;

std::string TorchScriptExtractor::name() const { return "torchscript:" + impl_->file.filename().string(); }

std::string TorchScriptExtractor::label() const {
  const auto file = impl_->file.filename().string();
  return impl_->options.description.empty()
             ? fmt::format("FID (TorchScript features: {})", file)
             : fmt::format("FID ({}, TorchScript {})", impl_->options.description, file);
}

std::int64_t TorchScriptExtractor::dim() const { return impl_->dim; }

const std::filesystem::path& TorchScriptExtractor::file() const { return impl_->file; }

std::string TorchScriptExtractor::resize() const {
  const auto& o = impl_->options;
  std::vector<std::string> steps;
  if (o.input_size > 0) steps.push_back(fmt::format("bilinear {0}x{0} (align_corners=false)", o.input_size));
  if (o.channels == 3) steps.emplace_back("gray->RGB");
  if (o.input_range == InputRange::kZeroToOne) steps.emplace_back("[-1,1]->[0,1]");
  return steps.empty() ? "none" : fmt::format("{}", fmt::join(steps, ", "));
}

at::Tensor TorchScriptExtractor::features(const at::Tensor& images) {
  check_images(images, "TorchScriptExtractor");
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (std::int64_t start = 0; start < images.size(0); start += impl_->options.batch_size) {
    parts.push_back(impl_->run(impl_->prepare(images.slice(0, start, start + impl_->options.batch_size))));
  }
  return parts.empty() ? torch::empty({0, impl_->dim}, images.options().dtype(torch::kFloat32)) : torch::cat(parts);
}

// ---- FID on features ----

FeatureFid feature_fid(FeatureExtractor& extractor, const at::Tensor& images_a, const at::Tensor& images_b) {
  const auto a = extractor.features(images_a), b = extractor.features(images_b);
  return FeatureFid{.fid = frechet_distance(gaussian_stats(a), gaussian_stats(b)),
                    .count_a = a.size(0),
                    .count_b = b.size(0),
                    .dim = extractor.dim(),
                    .extractor = extractor.name(),
                    .label = extractor.label(),
                    .resize = extractor.resize()};
}

}  // namespace ganleaks::metrics
