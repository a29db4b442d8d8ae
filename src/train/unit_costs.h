#pragma once
// The measured units a task's cost estimate (`ganleaks plan`) counts in, for the models of the zoo: one training
// iteration at train.batch_size and one generated sample, timed here, on this process's device, for the config's
// own models and sizes. LibTorch stays behind this header.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/config.h"
#include "train/config.h"

namespace ganleaks::train {

// Mean seconds of `work` over `repeats` runs, after one run that warms caches and allocators up.
double seconds_of(const std::function<void()>& work, int repeats = 3);

struct ModelCost {
  double iteration = 0;  // one training iteration at train.batch_size (critic_steps included)
  double sample = 0;     // one sample through the generator (eval, in chunks of 500); the discriminator alike
};

class ModelCosts {
 public:
  // `sample_shape`: one record as the models take it ({1, 32, 32} for images).
  ModelCosts(const ModelConfig& model, const TrainConfig& train, std::vector<std::int64_t> sample_shape);
  ~ModelCosts();
  ModelCosts(const ModelCosts&) = delete;
  ModelCosts& operator=(const ModelCosts&) = delete;

  const ModelCost& of(const std::string& model);  // measured on first use
  // "<model> training iteration" and "<model> generated sample" in seconds, for the printout.
  std::map<std::string, double> unit_seconds() const;

 private:
  ModelConfig model_;
  TrainConfig train_;
  std::vector<std::int64_t> shape_;
  std::filesystem::path scratch_;
  std::map<std::string, ModelCost> models_;
};

}  // namespace ganleaks::train
