#include "membership/perceptual_job.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <chrono>

#include "core/log.h"
#include "dist/placement.h"
#include "io/h5.h"
#include "io/record.h"
#include "models/classifier.h"

namespace ganleaks::membership {
namespace {

std::filesystem::path classifier_dir(const runner::Layout& layout, const Config& config) {
  return layout.cache() / ("perceptual-classifier-" + perceptual_classifier_key(config));
}
std::filesystem::path weights_file(const runner::Layout& layout, const Config& config) {
  return classifier_dir(layout, config) / "classifier.pt";
}
// The classifier's shape and training: models/classifier.h's defaults (91 % test accuracy when trained on the
// training file), for images of data.image_size.
const models::ClassifierOptions kOptions{};

}  // namespace

std::filesystem::path perceptual_classifier_record(const runner::Layout& layout, const Config& config) {
  return classifier_dir(layout, config) / "classifier.h5";
}

void train_perceptual_classifier_job(const Job& job, const Config& config, const runner::Layout& layout, int rank,
                                     const at::Device& device, const std::function<void()>& between_steps) {
  const auto start = std::chrono::steady_clock::now();
  const auto dir = classifier_dir(layout, config);
  std::filesystem::create_directories(dir);
  const auto file = perceptual_classifier_file(config);
  const models::ClassifierTraining training{.device = device, .on_step = [&](int) {
                                              if (between_steps) between_steps();
                                            }};
  log::info(fmt::format("{}: training on Fashion-MNIST's {} file (outside data.pool), {} iterations", job.name, file,
                        training.iterations));
  const auto trained = models::train_fashion_mnist_classifier(config.data.path, file, config.data.image_size, kOptions,
                                                              training);
  models::save_classifier(trained.model, weights_file(layout, config));
  io::commit_record(perceptual_classifier_record(layout, config), [&](const std::filesystem::path& tmp) {
    const auto h5 = io::H5File::create(tmp);
    const auto r = h5.root();
    r.set_attr("job_hash", job.hash);
    r.set_attr("trained_on", "Fashion-MNIST " + file + " file");
    r.set_attr("test_accuracy", trained.test_accuracy);
    r.set_attr("train_records", trained.train_records);
    r.set_attr("test_records", trained.test_records);
    r.set_attr("iterations", static_cast<std::int64_t>(training.iterations));
    r.set_attr("cache_key", perceptual_classifier_key(config));
    r.set_attr(io::kFileDigests, io::file_digests(dir, {weights_file(layout, config).filename().string()}));
    r.set_attr("wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    dist::record_placement(r, dist::placement(rank, 1, device.str()));
  });
  log::info(fmt::format("{}: accuracy {:.4f} on the {} images of the other file, cached in {}", job.name,
                        trained.test_accuracy, trained.test_records, dir.string()));
}

models::Classifier load_perceptual_classifier(const runner::Layout& layout, const Config& config, const at::Device& device) {
  return models::load_classifier(kOptions, weights_file(layout, config), device);
}

}  // namespace ganleaks::membership
