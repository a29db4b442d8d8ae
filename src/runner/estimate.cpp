#include "runner/estimate.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <ftw.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>

#include "attacks/membership.h"
#include "data/pool.h"
#include "metrics/features.h"
#include "models/classifier.h"
#include "models/zoo.h"
#include "train/trainer.h"

namespace ganleaks::runner {
namespace {

constexpr double kDpStepCost = 2.5;  // a DP-SGD discriminator step vs a plain one (bench/: 1.7–2.5x)

// libtorch.so exports its own std::filesystem::remove_all, which crashes on a non-empty folder in processes
// linked to it: the scratch folder is removed bottom-up with nftw.
void remove_tree(const std::filesystem::path& dir) {
  nftw(dir.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }, 16,
       FTW_DEPTH | FTW_PHYS);
}

// Mean seconds of `work` over `repeats` runs, after one run that warms caches and allocators up.
double seconds_of(const std::function<void()>& work, int repeats = 3) {
  work();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
}

// The measured units of one model of the zoo.
struct ModelUnits {
  double iteration = 0;  // one training iteration at train.batch_size (critic_steps included)
  double sample = 0;     // one sample through the generator (eval, in chunks of 500); the discriminator alike
};

class Units {
 public:
  Units(const Config& config, std::vector<std::int64_t> sample_shape)
      : config_(config), shape_(std::move(sample_shape)),
        scratch_(std::filesystem::temp_directory_path() / fmt::format("ganleaks-estimate-{}", ::getpid())) {
    at::set_num_threads(config.experiment.threads_per_rank);
  }
  ~Units() { remove_tree(scratch_); }

  const ModelUnits& model(const std::string& name) {
    auto it = models_.find(name);
    if (it != models_.end()) return it->second;
    ModelUnits u;
    // Iterations: the difference between runs of 1 and 3 iterations leaves set-up and saving out.
    std::vector<std::int64_t> records_shape{2 * config_.train.batch_size};
    records_shape.insert(records_shape.end(), shape_.begin(), shape_.end());
    const auto records = torch::rand(records_shape) * 2 - 1;
    const auto run = [&](std::int64_t iterations) {
      auto train = config_.train;
      train.iterations = iterations;
      train.pretrain_iterations = 0;
      train.checkpoint_every = 1'000'000'000;
      remove_tree(scratch_);  // no checkpoint to resume from
      train::train_model({.model = config_.model.only(name), .train = train, .seed = 0, .run_dir = scratch_}, records);
    };
    const double one = seconds_of([&] { run(1); }, 1), three = seconds_of([&] { run(3); }, 1);
    u.iteration = std::max(three - one, 1e-6) / 2;
    torch::manual_seed(0);
    auto networks = models::make_networks(config_.model.only(name), shape_);
    u.sample = seconds_of([&] { attacks::generate_chunk(*networks.generator, 0, 0, attacks::kSampleChunk); }) /
               static_cast<double>(attacks::kSampleChunk);
    return models_.emplace(name, u).first->second;
  }

  // Nearest-sample search, per (query, generated sample) pair.
  double search_pair() {
    if (search_ < 0) {
      const auto dim = std::accumulate(shape_.begin(), shape_.end(), std::int64_t{1}, std::multiplies<>());
      const auto queries = torch::rand({256, dim}), samples = torch::rand({attacks::kSampleChunk, dim});
      search_ = seconds_of([&] { attacks::nearest_generated(queries, samples); }) / (256.0 * attacks::kSampleChunk);
    }
    return search_;
  }

  // The classifier (or a TorchScript network) per image, forward only; and per training iteration.
  double feature_sample() {
    if (feature_ < 0) {
      models::Classifier classifier(models::ClassifierOptions{.width = config_.features.classifier_width,
                                                              .feature_dim = config_.features.classifier_feature_dim});
      classifier->eval();
      const auto images = torch::rand({attacks::kSampleChunk, 1, 32, 32}) * 2 - 1;
      torch::NoGradGuard no_grad;
      feature_ = seconds_of([&] { classifier->forward(images); }) / static_cast<double>(attacks::kSampleChunk);
      if (config_.features.extractor == "torchscript") {
        metrics::TorchScriptExtractor net(config_.features.torchscript_model,
                                          metrics::torchscript_options(config_.features));
        const auto few = images.narrow(0, 0, 8);
        feature_ += seconds_of([&] { net.features(few); }, 1) / 8.0;
      }
    }
    return feature_;
  }
  double classifier_iteration() {
    if (classifier_iteration_ < 0) {
      const auto& f = config_.features;
      const auto images = torch::rand({2 * f.classifier_batch_size, 1, 32, 32}) * 2 - 1;
      const std::vector<std::int64_t> labels(static_cast<std::size_t>(images.size(0)), 0);
      const auto train = [&](int iterations) {
        models::train_classifier(images, labels,
                                 {.width = f.classifier_width, .feature_dim = f.classifier_feature_dim},
                                 {.iterations = iterations, .batch_size = f.classifier_batch_size, .lr = f.classifier_lr});
      };
      const double one = seconds_of([&] { train(1); }, 1), three = seconds_of([&] { train(3); }, 1);
      classifier_iteration_ = std::max(three - one, 1e-6) / 2;
    }
    return classifier_iteration_;
  }

  const std::map<std::string, ModelUnits>& models() const { return models_; }

 private:
  const Config& config_;
  std::vector<std::int64_t> shape_;
  std::filesystem::path scratch_;
  std::map<std::string, ModelUnits> models_;
  double search_ = -1, feature_ = -1, classifier_iteration_ = -1;
};

std::vector<std::int64_t> sample_shape(const Config& config) {
  if (config.data.dataset == "fashion-mnist") return {1, 32, 32};
  if (config.data.dataset == "fashion-mnist-binary") return {28 * 28};
  return {data::Pool::load(config.data).rows(std::vector<std::int64_t>{0}).size(1)};  // a user's table
}

// Rank-seconds of one job, from the units.
double job_seconds(const Config& c, const Job& job, Units& units) {
  const auto& a = c.attack;
  const auto& e = c.extraction;
  switch (job.kind) {
    case JobKind::kTrain: {
      const auto& u = units.model(job.model);
      const auto iterations = training_iterations(c, job);
      const double pretrain = models::model_info(job.model).objective == models::Objective::kMedgan
                                  ? 0.5 * static_cast<double>(c.train.pretrain_iterations)
                                  : 0.0;  // an autoencoder step: about half a GAN iteration
      return (static_cast<double>(iterations) * (job.privacy.empty() ? 1.0 : kDpStepCost) + pretrain) * u.iteration;
    }
    case JobKind::kAttack: {
      const auto& u = units.model(job.model);
      const double queries = 2.0 * static_cast<double>(query_count(c, job.train_size));
      const double k = static_cast<double>(a.fbb_samples);
      const double samples = k * u.sample + queries * k * units.search_pair();  // generate, then search
      double per_model = 0;
      if (job.setting == "fbb") per_model = samples;
      if (job.setting == "mc" || job.setting == "domias") per_model = samples + queries * k * units.search_pair();
      if (job.setting == "dis") per_model = queries * u.sample;
      if (job.setting == "pbb") {
        per_model = (a.pbb_init == "nn" ? samples : 0) +
                    queries * a.pbb_iterations * c.model.z_dim * a.pbb_line_evaluations * u.sample;
      }
      if (job.setting == "wb") {
        per_model = (a.wb_init == "nn" ? samples : 0) + queries * a.wb_restarts * a.wb_max_evaluations * 3 * u.sample;
      }
      const bool calibrated = std::ranges::find(a.calibrated, true) != a.calibrated.end();
      return per_model * (calibrated && job.setting != "domias" ? 2 : 1);
    }
    case JobKind::kClassifier: return static_cast<double>(c.features.classifier_iterations) * units.classifier_iteration();
    case JobKind::kQueries: {
      const auto& u = units.model(job.model);
      const double n = static_cast<double>(job.queries), utility = static_cast<double>(std::min(job.queries, e.fid_samples));
      double seconds = n * u.sample * (job.defense.empty() ? 1 : 2) + (job.defense.empty() ? 0 : 2 * utility * units.feature_sample());
      if (job.defense == "adversarial-noise") seconds += n * 3 * c.defenses.adversarial_steps * units.feature_sample();
      if (job.defense == "semantic") seconds += static_cast<double>(c.defenses.semantic_samples) * (u.sample + units.feature_sample());
      return seconds;
    }
    case JobKind::kRefine: return static_cast<double>(job.queries) * 2 * units.model(job.model).sample;
    case JobKind::kEvaluate: {
      const double real = job.method == "target"                     ? static_cast<double>(e.target_train_size)
                          : job.method.starts_with("transfer") ? static_cast<double>(e.transfer_train_size)
                                                               : 0.0;
      const auto model = job.method == "target" ? job.model : c.extraction.attack_models.front();
      return static_cast<double>(e.fid_samples) * (units.model(model).sample + 2 * units.feature_sample()) +
             real * 2 * units.feature_sample();
    }
  }
  return 0;
}

}  // namespace

CostEstimate estimate_cost(const Config& config, const std::vector<Job>& jobs) {
  Units units(config, sample_shape(config));
  CostEstimate out;
  for (const auto& job : jobs) {
    const double s = job_seconds(config, job, units);
    out.rank_seconds += s;
    out.by_kind[std::string(kind_name(job.kind))] += s;
  }
  for (const auto& [name, u] : units.models()) {
    out.unit_seconds[name + " training iteration"] = u.iteration;
    out.unit_seconds[name + " generated sample"] = u.sample;
  }
  return out;
}

std::string describe_cost(const CostEstimate& cost, int ranks, double gpu_speedup) {
  const double hours = cost.rank_seconds / 3600;
  std::string out = fmt::format(
      "Estimated cost of the jobs left: {:.3g} rank-hours on this machine's CPU ranks (units measured now), i.e. "
      "{:.3g} h of wall time on {} ranks if the jobs spread evenly; about {:.3g} GPU-hours at an assumed {:g}x "
      "GPU/CPU-core speed-up (--gpu-speedup).\n",
      hours, hours / std::max(1, ranks), ranks, hours / gpu_speedup, gpu_speedup);
  for (const auto& [kind, seconds] : cost.by_kind) {
    out += fmt::format("  {:<10} {:>10.3g} rank-hours\n", kind, seconds / 3600);
  }
  out += "  measured units:";
  for (const auto& [unit, seconds] : cost.unit_seconds) out += fmt::format(" {} {:.3g} s;", unit, seconds);
  out += "\n";
  return out;
}

}  // namespace ganleaks::runner
