// The classifier job: the network behind every extraction FID and class histogram (SPEC §4), trained once per
// setting and cached for every experiment under the same results_dir; and the check of a user's feature network.
#include "core/log.h"
#include "extraction/parts.h"

namespace ganleaks::extraction {

std::filesystem::path classifier_dir(const runner::Layout& layout, const Config& config) {
  return layout.cache() / ("classifier-" + classifier_cache_key(config));
}

std::filesystem::path classifier_record(const std::filesystem::path& classifier_dir) {
  return classifier_dir / "classifier.h5";
}

void check_feature_network(const Config& config) {
  if (config.features.extractor == "torchscript") {
    metrics::TorchScriptExtractor(config.features.torchscript_model, torchscript_options(config.features));
  }
}

void train_classifier_job(const Job& job, const Config& config, const runner::Layout& layout, int rank,
                          const at::Device& device, const std::function<void()>& between_steps) {
  const auto start = Clock::now();
  const auto dir = classifier_dir(layout, config);
  std::filesystem::create_directories(dir);
  // The evaluator is trained on Fashion-MNIST's training files and tested on its test files, whatever data.pool.
  const auto& f = config.features;
  log::info(fmt::format("classifier: training on Fashion-MNIST's training file, {} iterations", f.classifier_iterations));
  const auto trained = models::train_fashion_mnist_classifier(
      config.data.path, "train", 32, classifier_options(config),
      {.iterations = static_cast<int>(f.classifier_iterations), .batch_size = f.classifier_batch_size,
       .lr = f.classifier_lr, .seed = job.seed, .device = device, .on_step = [&](int) {
         if (between_steps) between_steps();
       }});
  const auto& model = trained.model;
  const double accuracy = trained.test_accuracy;
  models::save_classifier(model, classifier_file(dir));
  io::commit_record(classifier_record(dir), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    const auto r = file.root();
    r.set_attr("job_hash", job.hash);
    r.set_attr("test_accuracy", accuracy);
    r.set_attr("train_records", trained.train_records);
    r.set_attr("test_records", trained.test_records);
    r.set_attr("iterations", f.classifier_iterations);
    r.set_attr("feature_dim", static_cast<std::int64_t>(f.classifier_feature_dim));
    r.set_attr("cache_key", classifier_cache_key(config));
    r.set_attr(io::kFileDigests, io::file_digests(dir, {classifier_file(dir).filename().string()}));
    r.set_attr("wall_seconds", std::chrono::duration<double>(Clock::now() - start).count());
    dist::record_placement(r, dist::placement(rank, 1, device.str()));
  });
  log::info(fmt::format("classifier: test accuracy {:.4f} ({} test images), cached in {}", accuracy, trained.test_records,
                        dir.string()));
}

}  // namespace ganleaks::extraction
