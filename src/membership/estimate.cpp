// What a membership plan will cost (`ganleaks plan`): training iterations and generated samples of the config's
// models, and the nearest-sample search, timed here (train/unit_costs.h), counted per job.
#include <fmt/format.h>
#include <torch/torch.h>

#include <map>
#include <memory>
#include <numeric>

#include "attacks/membership.h"
#include "data/pool.h"
#include "membership/task.h"
#include "models/catalog.h"
#include "train/unit_costs.h"

namespace ganleaks::membership {
namespace {

// The perceptual classifier's training at models/classifier.h's defaults: about 40 s on one CPU thread.
constexpr double kPerceptualClassifierSeconds = 45;

}  // namespace

double search_pair_seconds(const std::vector<std::int64_t>& shape) {
  const auto dim = std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
  // host: `ganleaks plan` times this process's CPU (the GPU speed-up is applied after).
  const auto queries = torch::rand({256, dim}), samples = torch::rand({models::kSampleChunk, dim});
  return train::seconds_of([&] { attacks::nearest_generated(queries, samples); }) / (256.0 * models::kSampleChunk);
}

double scoring_seconds(const AttackConfig& a, const ModelConfig& model, std::string_view setting, double queries,
                       const train::ModelCost& u, double search_pair) {
  const double k = static_cast<double>(a.fbb_samples);
  const double samples = k * u.sample + queries * k * search_pair;  // generate, then search
  if (setting == "fbb") return samples;
  if (setting == "mc" || setting == "domias") return samples + queries * k * search_pair;
  if (setting == "dis") return queries * u.sample;
  if (setting == "pbb") {
    // Brent's evaluations per line vary per query; 12 is about what they took on the DCGAN victims of
    // configs/attacks.toml (README, "Every attack": 3 633-3 803 per query over 3 sweeps of 100 directions).
    const double per_line = a.pbb_line_search == "brent" ? 12.0 : a.pbb_line_evaluations;
    return (a.pbb_init == "nn" ? samples : 0) + queries * a.pbb_iterations * model.z_dim * per_line * u.sample;
  }
  if (setting == "wb") return (a.wb_init == "nn" ? samples : 0) + queries * a.wb_restarts * a.wb_max_evaluations * 3 * u.sample;
  // The diffusion settings: U-Net evaluations per query; a generated sample takes model.sampling_steps of them.
  const double evaluations = setting == "loss"    ? static_cast<double>(a.loss_timesteps.size() * a.loss_draws)
                             : setting == "secmi" ? a.secmi_t / a.secmi_interval + 2.0
                                                  : 2.0;
  return queries * evaluations * u.sample / model.sampling_steps;
}

std::vector<std::int64_t> sample_shape(const DataConfig& data) {
  if (data.dataset == "fashion-mnist") return {1, 32, 32};
  if (data.dataset == "fashion-mnist-binary") return {28 * 28};
  return {data::Pool::load(data).rows(std::vector<std::int64_t>{0}).size(1)};  // a user's table
}

runner::CostEstimate Task::estimate(const std::vector<runner::Job>& jobs) const {
  at::set_num_threads(config_.experiment.threads_per_rank);  // one rank's speed
  const auto shape = sample_shape(config_.data);
  // Measured per distinct [model] and [train] (arms of [[variant]] tables may set another z_dim or width), under
  // the label of the first arm that uses them.
  struct Measured {
    std::string arm;
    std::unique_ptr<train::ModelCosts> costs;
  };
  std::map<std::string, Measured> costs_by_settings;
  const auto costs_of = [&](const JobSpec& spec, const Config& c) -> train::ModelCosts& {
    auto& slot = costs_by_settings[section_toml(c, "model") + section_toml(c, "train")];
    if (!slot.costs) slot = {spec.variant, std::make_unique<train::ModelCosts>(c.model, c.train, shape)};
    return *slot.costs;
  };
  double search_pair = -1;  // measured on first use
  runner::CostEstimate out;
  for (const auto& job : jobs) {
    const auto& spec = plan_.specs[job.id];
    const auto& config = config_of(spec);
    const auto& a = config.attack;
    double seconds = 0;
    if (spec.kind == JobKind::kPerceptual) {
      seconds = kPerceptualClassifierSeconds;
    } else if (spec.kind == JobKind::kShadowAttack) {
      seconds = 0;  // LiRA and RMIA from stored signals: arithmetic
    } else if (const auto& u = costs_of(spec, config).of(spec.model); spec.kind == JobKind::kTrain) {
      const double pretrain = models::model_info(spec.model).objective == models::Objective::kMedgan
                                  ? 0.5 * static_cast<double>(config.train.pretrain_iterations)
                                  : 0.0;  // an autoencoder step: about half a GAN iteration
      seconds = (static_cast<double>(config.train.iterations) * (spec.dp ? kDpStepCost : 1.0) + pretrain) * u.iteration;
    } else {
      if (search_pair < 0) search_pair = search_pair_seconds(shape);
      // A signal job scores one model on the queries and RMIA's population; an attack, the victim and the reference.
      const bool signals = spec.kind == JobKind::kSignals;
      const double queries = 2.0 * static_cast<double>(query_count(config, spec.train_size)) +
                             (signals ? static_cast<double>(a.rmia_population) : 0.0);
      const double per_model = scoring_seconds(a, config.model, spec.setting, queries, u, search_pair);
      seconds = per_model * (!signals && a.any_calibrated() && spec.setting != "domias" ? 2 : 1);
    }
    out.rank_seconds += seconds;
    out.by_kind[job.kind] += seconds;
  }
  const bool several = costs_by_settings.size() > 1;  // then the units of each are told apart by arm
  for (const auto& [settings, measured] : costs_by_settings) {
    for (const auto& [unit, seconds] : measured.costs->unit_seconds()) {
      out.unit_seconds[several ? fmt::format("{} ({})", unit, measured.arm) : unit] = seconds;
    }
  }
  return out;
}

}  // namespace ganleaks::membership
