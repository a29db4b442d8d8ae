// What an extraction plan will cost (`ganleaks plan`): training iterations and generated samples of the config's
// models (train/unit_costs.h), the classifier's training iterations and features per image, counted per job.
#include <torch/torch.h>

#include "extraction/parts.h"
#include "extraction/task.h"
#include "train/unit_costs.h"

namespace ganleaks::extraction {
namespace {

// The classifier (or a TorchScript network) per image, forward only; and per training iteration.
class ClassifierCosts {
 public:
  explicit ClassifierCosts(const FeaturesConfig& features) : f_(features) {}

  double feature_sample() {
    if (feature_ < 0) {
      models::Classifier classifier(models::ClassifierOptions{.width = f_.classifier_width,
                                                              .feature_dim = f_.classifier_feature_dim});
      classifier->eval();
      // host: `ganleaks plan` times this process's CPU (the GPU speed-up is applied after).
      const auto images = torch::rand({models::kSampleChunk, 1, 32, 32}) * 2 - 1;
      torch::NoGradGuard no_grad;
      feature_ = train::seconds_of([&] { classifier->forward(images); }) / static_cast<double>(models::kSampleChunk);
      if (f_.extractor == "torchscript") {
        metrics::TorchScriptExtractor net(f_.torchscript_model, torchscript_options(f_));
        const auto few = images.narrow(0, 0, 8);
        feature_ += train::seconds_of([&] { net.features(few); }, 1) / 8.0;
      }
    }
    return feature_;
  }

  double iteration() {
    if (iteration_ < 0) {
      // host: timed on the CPU, as above.
      const auto images = torch::rand({2 * f_.classifier_batch_size, 1, 32, 32}) * 2 - 1;
      const std::vector<std::int64_t> labels(static_cast<std::size_t>(images.size(0)), 0);
      const auto train = [&](int iterations) {
        models::train_classifier(images, labels, {.width = f_.classifier_width, .feature_dim = f_.classifier_feature_dim},
                                 {.iterations = iterations, .batch_size = f_.classifier_batch_size, .lr = f_.classifier_lr});
      };
      const double one = train::seconds_of([&] { train(1); }, 1), three = train::seconds_of([&] { train(3); }, 1);
      iteration_ = std::max(three - one, 1e-6) / 2;
    }
    return iteration_;
  }

 private:
  const FeaturesConfig& f_;
  double feature_ = -1, iteration_ = -1;
};

}  // namespace

runner::CostEstimate Task::estimate(const std::vector<runner::Job>& jobs) const {
  at::set_num_threads(config_.experiment.threads_per_rank);  // one rank's speed
  train::ModelCosts costs(config_.model, config_.train, {1, 32, 32});
  ClassifierCosts classifier(config_.features);
  const auto& e = config_.extraction;
  runner::CostEstimate out;
  for (const auto& job : jobs) {
    const auto& s = plan_.specs[job.id];
    double seconds = 0;
    switch (s.kind) {
      case JobKind::kTrain: seconds = static_cast<double>(s.iterations) * costs.of(s.model).iteration; break;
      case JobKind::kClassifier:
        seconds = static_cast<double>(config_.features.classifier_iterations) * classifier.iteration();
        break;
      case JobKind::kQueries: {
        const double n = static_cast<double>(s.queries), utility = static_cast<double>(std::min(s.queries, e.fid_samples));
        const bool defended = !s.defense.empty();
        seconds = n * costs.of(s.model).sample * (defended ? 2 : 1) + (defended ? 2 * utility * classifier.feature_sample() : 0);
        if (s.defense == "adversarial-noise") {
          seconds += n * 3 * config_.defenses.adversarial_steps * classifier.feature_sample();
        }
        if (s.defense == "semantic") {
          seconds += static_cast<double>(config_.defenses.semantic_samples) *
                     (costs.of(s.model).sample + classifier.feature_sample());
        }
        break;
      }
      case JobKind::kRefine: seconds = static_cast<double>(s.queries) * 2 * costs.of(s.model).sample; break;
      case JobKind::kEvaluate: {
        const double real = s.method == "target"                   ? static_cast<double>(e.target_train_size)
                            : s.method.starts_with("transfer") ? static_cast<double>(e.transfer_train_size)
                                                               : 0.0;
        const auto& model = s.method == "target" ? s.model : e.attack_models.front();
        seconds = static_cast<double>(e.fid_samples) * (costs.of(model).sample + 2 * classifier.feature_sample()) +
                  real * 2 * classifier.feature_sample();
        break;
      }
    }
    out.rank_seconds += seconds;
    out.by_kind[job.kind] += seconds;
  }
  out.unit_seconds = costs.unit_seconds();
  return out;
}

}  // namespace ganleaks::extraction
