#pragma once
// A training job of any task: one model of the zoo trained on its records (train_model), then, on the group's
// rank 0, its record runs/<job>/run.h5 committed (what every run records: the model, its settings and losses, the
// records it saw, where it ran, its privacy and sample quality). LibTorch stays behind this header.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "privacy/config.h"
#include "privacy/levels.h"
#include "train/trainer.h"

namespace ganleaks::io {
class H5Group;
}

namespace ganleaks::train {

// How good a trained model's samples are, as its task measures it (membership: against the reference split);
// NaN where not measured.
struct SampleQuality {
  std::string measure;
  double value = std::numeric_limits<double>::quiet_NaN();
  std::int64_t real = 0, generated = 0;
};

// DP-SGD as resolved for one run (privacy/levels.h) and the [privacy] keys of how it runs.
inline DpTraining dp_training(const privacy::DpSettings& dp, const PrivacyConfig& privacy) {
  return {.max_grad_norm = dp.max_grad_norm, .noise_multiplier = dp.noise_multiplier, .sample_rate = dp.sample_rate,
          .secure_noise = privacy.secure_noise, .clipping = privacy::clipping_named(privacy.clipping),
          .accounted_records = dp.records};
}

struct TrainingJob {
  std::string name, hash;                // the job's name and hash (the record's job_hash)
  std::string role;                      // what the model is to its task ("victim", "target", ...), recorded
  std::int64_t train_size = 0;           // recorded
  std::uint64_t seed = 0;                // the experiment's seed, recorded (spec.seed is the training seed)
  RunSpec spec;                          // model, [train] with this job's iterations, run_dir, group, ...
  at::Tensor records;                    // what it trains on
  std::vector<std::int64_t> rows;        // their indices in the pool (empty when they are not pool records)
  int world_rank = 0;                    // for the record's placement
  // DP-SGD: the settings its guarantee rests on (spec.dp is derived from them), and how they were asked for.
  privacy::PrivacyLevel level;
  std::optional<privacy::DpSettings> dp;
  bool secure_noise = false;
};

// Trains `job` (logging progress; between_steps after every iteration) and, on the group's rank 0, commits its
// record with `quality` of the trained model (may be empty: not measured) and the task's own attributes
// (`describe`, may be empty). Throws Interrupted (core/interrupt.h) when a signal stopped it, checkpointed.
void run_training_job(const TrainingJob& job, const std::function<void()>& between_steps,
                      const std::function<SampleQuality(models::Networks&)>& quality = {},
                      const std::function<void(const io::H5Group&)>& describe = {});

}  // namespace ganleaks::train
