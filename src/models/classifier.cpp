#include "models/classifier.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <numbers>
#include <numeric>
#include <vector>

#include "core/errors.h"
#include "core/seeding.h"
#include "data/idx.h"
#include "data/images.h"
#include "dist/device.h"
#include "models/archive.h"

namespace ganleaks::models {
namespace nn = torch::nn;

namespace {

// Written beside the weights so that load_classifier can tell a classifier of other options (or any other
// archive) from a matching one: [format version, channels, width, feature_dim, classes].
constexpr const char* kOptionsKey = "ganleaks_classifier_options";
constexpr std::int64_t kFormatVersion = 1;
constexpr std::int64_t kEvalBatch = 500;

void add_conv_bn_relu(nn::Sequential& net, int in, int out, int stride) {
  net->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  net->push_back(nn::BatchNorm2d(out));
  net->push_back(nn::ReLU());
}

void check_images(const ClassifierOptions& options, const at::Tensor& x, const char* who) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.channels && x.size(2) >= 8 && x.size(3) >= 8, who,
              ": expected images of shape (B, ", options.channels, ", H >= 8, W >= 8), got ", x.sizes());
}

void check_labels(const at::Tensor& images, std::span<const std::int64_t> labels, int classes, const char* who) {
  if (images.dim() < 1 || static_cast<std::int64_t>(labels.size()) != images.size(0)) {
    throw std::invalid_argument(fmt::format("{}: {} labels for {} images", who, labels.size(),
                                            images.dim() < 1 ? 0 : images.size(0)));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw std::invalid_argument(
          fmt::format("{}: label {} at index {} outside [0, {})", who, labels[i], i, classes));
    }
  }
}

at::Tensor options_tensor(const ClassifierOptions& o) {
  // host: the options as saved in the file.
  return torch::tensor({kFormatVersion, std::int64_t{o.channels}, std::int64_t{o.width}, std::int64_t{o.feature_dim},
                        std::int64_t{o.classes}});
}

std::string describe(const at::Tensor& saved) {
  const auto v = saved.to(torch::kInt64);
  return fmt::format("channels {}, width {}, feature_dim {}, classes {}", v[1].item<std::int64_t>(),
                     v[2].item<std::int64_t>(), v[3].item<std::int64_t>(), v[4].item<std::int64_t>());
}

std::string first_line(const std::exception& e) {
  const std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

}  // namespace

ClassifierImpl::ClassifierImpl(const ClassifierOptions& options) : options_(options) {
  TORCH_CHECK(options.channels > 0 && options.width > 0 && options.feature_dim > 0 && options.classes > 1,
              "Classifier: channels, width and feature_dim must be positive and classes at least 2");
  const int w = options.width;
  nn::Sequential body;
  add_conv_bn_relu(body, options.channels, w, 2);  // 32 -> 16
  add_conv_bn_relu(body, w, 2 * w, 2);             // 16 -> 8
  add_conv_bn_relu(body, 2 * w, 2 * w, 1);         // 8
  add_conv_bn_relu(body, 2 * w, 4 * w, 2);         // 8 -> 4
  body_ = register_module("body", body);
  embed_ = register_module("embed", nn::Linear(4 * w, options.feature_dim));
  head_ = register_module("head", nn::Linear(options.feature_dim, options.classes));
}

at::Tensor ClassifierImpl::features(const at::Tensor& x) {
  check_images(options_, x, "Classifier");
  const auto pooled = body_->forward(x).mean({2, 3});
  return torch::relu(embed_->forward(pooled));
}

at::Tensor ClassifierImpl::forward(const at::Tensor& x) { return head_->forward(features(x)); }

std::vector<at::Tensor> ClassifierImpl::block_outputs(const at::Tensor& x) {
  check_images(options_, x, "Classifier");
  std::vector<at::Tensor> out;
  auto h = x;
  for (auto& layer : *body_) {
    h = layer.forward(h);
    if (layer.ptr()->as<nn::ReLUImpl>()) out.push_back(h);
  }
  return out;
}

Classifier train_classifier(const at::Tensor& images, std::span<const std::int64_t> labels,
                            const ClassifierOptions& options, const ClassifierTraining& training) {
  if (images.dim() != 4 || images.size(1) != options.channels || images.size(0) == 0) {
    throw std::invalid_argument(fmt::format("train_classifier: expected images (N > 0, {}, H, W), got [{}]",
                                            options.channels, fmt::join(images.sizes(), ", ")));
  }
  check_labels(images, labels, options.classes, "train_classifier");
  if (training.iterations < 1 || training.batch_size < 1 || !(training.lr > 0) || training.weight_decay < 0) {
    throw std::invalid_argument(
        "train_classifier: iterations and batch_size must be positive, lr > 0, weight_decay >= 0");
  }
  torch::manual_seed(derive_seed(training.seed, "classifier-init"));
  Classifier model(options);
  model->to(training.device);
  model->train();
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(training.lr).weight_decay(training.weight_decay));
  auto& adam = static_cast<torch::optim::AdamOptions&>(optimizer.param_groups().front().options());

  const std::int64_t n = images.size(0);
  const std::int64_t batch = std::min<std::int64_t>(n, training.batch_size);
  const auto data = images.to(training.device, torch::kFloat32).contiguous();
  const auto targets =
      torch::from_blob(const_cast<std::int64_t*>(labels.data()), {n}, torch::kInt64).to(training.device, /*non_blocking=*/false, /*copy=*/true);
  Rng order_rng(derive_seed(training.seed, "classifier-batches"));
  Rng flip_rng(derive_seed(training.seed, "classifier-flips"));
  std::vector<std::int64_t> order(n);
  std::size_t cursor = order.size();
  std::vector<std::int64_t> rows(batch);
  std::vector<std::uint8_t> flips(batch);

  for (int it = 0; it < training.iterations; ++it) {
    for (auto& row : rows) {  // every image once per epoch, the order reshuffled each epoch
      if (cursor == order.size()) {
        std::iota(order.begin(), order.end(), std::int64_t{0});
        order_rng.shuffle(std::span<std::int64_t>(order));
        cursor = 0;
      }
      row = order[cursor++];
    }
    const auto index = torch::from_blob(rows.data(), {batch}, torch::kInt64).to(training.device, false, true);
    auto x = data.index_select(0, index);
    if (training.flip) {
      for (auto& f : flips) f = static_cast<std::uint8_t>(flip_rng.next() >> 63);
      const auto mask = torch::from_blob(flips.data(), {batch, 1, 1, 1}, torch::kUInt8).to(training.device, torch::kBool);
      x = torch::where(mask, x.flip({3}), x);
    }
    adam.lr(training.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * it / training.iterations)));
    const auto loss = torch::nn::functional::cross_entropy(model->forward(x), targets.index_select(0, index));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (training.on_step) training.on_step(it + 1);
  }
  model->eval();
  return model;
}

FashionMnistClassifier train_fashion_mnist_classifier(const std::filesystem::path& data_dir, std::string_view train_file,
                                                      int image_size, const ClassifierOptions& options,
                                                      const ClassifierTraining& training) {
  TORCH_CHECK(train_file == "train" || train_file == "test", "train_fashion_mnist_classifier: no Fashion-MNIST file ",
              train_file);
  const auto load = [&](std::string_view file) {
    const auto set = data::load_fashion_mnist(data_dir, file);
    std::vector<std::int64_t> rows(static_cast<std::size_t>(set.count));
    std::iota(rows.begin(), rows.end(), std::int64_t{0});
    return std::pair{data::images_to_tensor(set, rows, image_size),
                     std::vector<std::int64_t>(set.labels.begin(), set.labels.end())};
  };
  const auto [train_images, train_labels] = load(train_file);
  const auto [test_images, test_labels] = load(train_file == "train" ? "test" : "train");
  FashionMnistClassifier out;
  out.model = train_classifier(train_images, train_labels, options, training);
  out.test_accuracy = classifier_accuracy(out.model, test_images, test_labels);
  out.train_records = train_images.size(0);
  out.test_records = test_images.size(0);
  return out;
}

at::Tensor classifier_predictions(const Classifier& shared, const at::Tensor& images) {
  Classifier model = shared;  // the same module, callable
  check_images(model->options(), images, "classifier_predictions");
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<at::Tensor> parts;
  const auto device = model->parameters().front().device();
  for (std::int64_t start = 0; start < images.size(0); start += kEvalBatch) {
    parts.push_back(model->forward(images.slice(0, start, start + kEvalBatch).to(device, torch::kFloat32)).argmax(1));
  }
  return parts.empty() ? torch::empty({0}, torch::TensorOptions(torch::kInt64).device(device)) : torch::cat(parts);
}

double classifier_accuracy(const Classifier& model, const at::Tensor& images, std::span<const std::int64_t> labels) {
  check_labels(images, labels, model->options().classes, "classifier_accuracy");
  if (labels.empty()) throw std::invalid_argument("classifier_accuracy: no images");
  const auto predicted = dist::to_host(classifier_predictions(model, images));
  // host: compared with the predictions brought to the host.
  const auto truth = torch::from_blob(const_cast<std::int64_t*>(labels.data()),
                                      {static_cast<std::int64_t>(labels.size())}, torch::kInt64);
  return predicted.eq(truth).sum().item<double>() / static_cast<double>(labels.size());  // on the host
}

void save_classifier(const Classifier& model, const std::filesystem::path& file) {
  torch::serialize::OutputArchive archive;
  save_module(*model, archive);
  archive.write(kOptionsKey, options_tensor(model->options()));
  save_archive(archive, file);
}

Classifier load_classifier(const ClassifierOptions& options, const std::filesystem::path& file,
                           const at::Device& device) {
  if (!std::filesystem::is_regular_file(file)) {
    throw UserError(fmt::format("{}: no such file; expected a classifier written by ganleaks", file.string()));
  }
  torch::serialize::InputArchive archive;
  at::Tensor saved;
  try {
    load_archive(archive, file);
  } catch (const std::exception& e) {
    throw UserError(fmt::format("{}: not a classifier file ({})", file.string(), first_line(e)));
  }
  if (!archive.try_read(kOptionsKey, saved) || saved.numel() != 5) {
    throw UserError(fmt::format("{}: not a classifier file (no '{}' record)", file.string(), kOptionsKey));
  }
  if (const auto version = saved[0].item<std::int64_t>(); version != kFormatVersion) {
    throw UserError(fmt::format("{}: classifier file format version {}; expected {}", file.string(), version,
                                kFormatVersion));
  }
  if (!torch::equal(saved.to(torch::kInt64), options_tensor(options))) {
    throw UserError(fmt::format("{}: classifier saved with {}; expected {}", file.string(), describe(saved),
                                describe(options_tensor(options))));
  }
  Classifier model(options);
  model->to(device);
  try {
    load_module(*model, archive);
  } catch (const std::exception& e) {
    throw UserError(fmt::format("{}: classifier weights do not load ({})", file.string(), first_line(e)));
  }
  model->eval();
  return model;
}

}  // namespace ganleaks::models
