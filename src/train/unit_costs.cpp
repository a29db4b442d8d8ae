#include "train/unit_costs.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <ftw.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "models/sampling.h"
#include "train/trainer.h"

namespace ganleaks::train {
namespace {

// libtorch.so exports its own std::filesystem::remove_all, which crashes on a non-empty folder in processes linked
// to it: the scratch folder is removed bottom-up with nftw.
void remove_tree(const std::filesystem::path& dir) {
  nftw(dir.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }, 16,
       FTW_DEPTH | FTW_PHYS);
}

}  // namespace

double seconds_of(const std::function<void()>& work, int repeats) {
  work();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
}

ModelCosts::ModelCosts(const ModelConfig& model, const TrainConfig& train, std::vector<std::int64_t> sample_shape)
    : model_(model), train_(train), shape_(std::move(sample_shape)),
      scratch_(std::filesystem::temp_directory_path() / fmt::format("ganleaks-estimate-{}", ::getpid())) {}

ModelCosts::~ModelCosts() { remove_tree(scratch_); }

const ModelCost& ModelCosts::of(const std::string& name) {
  auto it = models_.find(name);
  if (it != models_.end()) return it->second;
  ModelCost u;
  // Iterations: the difference between runs of 1 and 3 iterations leaves set-up and saving out.
  std::vector<std::int64_t> records_shape{2 * train_.batch_size};
  records_shape.insert(records_shape.end(), shape_.begin(), shape_.end());
  // host: `ganleaks plan` times this process's CPU (the GPU speed-up is applied after).
  const auto records = torch::rand(records_shape) * 2 - 1;
  const auto run = [&](std::int64_t iterations) {
    auto train = train_;
    train.iterations = iterations;
    train.pretrain_iterations = 0;
    train.checkpoint_every = 1'000'000'000;
    remove_tree(scratch_);  // no checkpoint to resume from
    train_model({.model = model_.only(name), .train = train, .seed = 0, .run_dir = scratch_}, records);
  };
  const double one = seconds_of([&] { run(1); }, 1), three = seconds_of([&] { run(3); }, 1);
  u.iteration = std::max(three - one, 1e-6) / 2;
  torch::manual_seed(0);
  auto networks = models::make_networks(model_.only(name), shape_);
  u.sample = seconds_of([&] { models::generate_chunk(*networks.generator, 0, 0, models::kSampleChunk); }) /
             static_cast<double>(models::kSampleChunk);
  return models_.emplace(name, u).first->second;
}

std::map<std::string, double> ModelCosts::unit_seconds() const {
  std::map<std::string, double> out;
  for (const auto& [name, u] : models_) {
    out[name + " training iteration"] = u.iteration;
    out[name + " generated sample"] = u.sample;
  }
  return out;
}

}  // namespace ganleaks::train
