#pragma once
// The membership sweep as a job graph: every (model, seed) trains one reference model, every (model, privacy
// level, train size, seed) one victim, and every (model, privacy level, attack setting, train size, seed) one
// attack that needs both; all of it once per arm of a config with [[variant]] tables, where arms whose settings
// train the same model share that training job. Job names are deterministic and name the job's output, which is
// how a rerun knows what is already done. No LibTorch: the plan is made (and tested) without it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "membership/config.h"
#include "privacy/levels.h"
#include "runner/job.h"

namespace ganleaks::membership {

// kPerceptual: the classifier behind attack.perceptual = "classifier" (one rank, cached across experiments), which
// the pbb and wb attacks wait for. With attack.shadow_models = K > 0 (membership/shadow.h), per (model, privacy
// level, size, seed) also K shadow trainings; per setting a kSignals job for the victim and for each shadow (the
// setting's loss on the queries and RMIA's population records, sharded over every rank like an attack), and one
// kShadowAttack (LiRA and RMIA from those signals, one rank). Raising K adds jobs and keeps the others' hashes.
enum class JobKind { kTrain, kAttack, kPerceptual, kSignals, kShadowAttack };
enum class Role { kVictim, kReference, kShadow };  // of a training job

// What the task knows of one job (runner::Job holds what the runner needs; both share the id).
struct JobSpec {
  JobKind kind = JobKind::kTrain;
  Role role = Role::kVictim;
  int arm = 0;                             // of arms(config): the config the job runs with
  std::string variant;                     // that arm's label ("" without [[variant]] tables)
  std::string model;                       // of the zoo
  std::string setting;                     // attacks: "fbb", "dis", ...
  std::int64_t train_size = 0;             // victim n (victims, attacks); the reference set size (references)
  std::uint64_t seed = 0;                  // the sweep's seed
  privacy::PrivacyLevel level;             // victims and their attacks
  std::optional<privacy::DpSettings> dp;   // DP victims and their attacks: resolved once, at plan time
  std::uint64_t training_seed = 0;         // training jobs: weights, batches and noise derive from it
  int victim = -1, reference = -1;         // attacks: the ids of the models they attack (reference: -1 if none);
                                           // signal jobs: `victim` is the model they score (victim or shadow)
  int shadow = -1;                         // shadow trainings: k, which fixes the training rows
  std::vector<int> signals;                // shadow attacks: the victim's signal job, then shadows 0 .. K − 1's
};

using Job = runner::Described<JobSpec>;  // a job as the task's own code sees it
using Plan = runner::TaskPlan<JobSpec>;
Plan make_plan(const Config& config);
Plan make_plan(const std::vector<Arm>& arms);  // arms(config), where the caller keeps them

// Job names carry the model only when the config compares several ("vae-victim-n64-s0"), so that a one-model
// sweep keeps the names (and the results folders) it always had.
std::string model_tag(const Config& config, const std::string& model);
// A variant's jobs carry its label first ("paper-nn-wb-n64-s0"); a training job shared by several variants, the
// label of the first. Training seeds derive from the name without it, so that variants training different models
// (another z_dim, longer) start them from the same seed.
std::string with_variant(const std::string& name, const std::string& label);
// A privacy level's jobs carry its label last ("victim-n64-s0-eps10"); the non-private level's, none.
std::string with_privacy(std::string name, const std::string& privacy);
// [attack] as job hashes read it (membership's and the audit's): the keys added after results existed are left out
// while they hold their defaults, so that those results keep their hashes.
std::string without_later_attack_defaults(std::string attack_toml);
std::string victim_run_name(std::int64_t train_size, std::uint64_t seed, const std::string& privacy = "",
                            const std::string& model_tag = "");
std::string reference_run_name(std::uint64_t seed, const std::string& model_tag = "");
std::string shadow_run_name(int shadow, const std::string& mode, std::int64_t train_size, std::uint64_t seed,
                            const std::string& privacy = "", const std::string& model_tag = "");
// The perceptual distance's classifier (attacks/perceptual.h): the Fashion-MNIST file it trains on (the one
// data.pool leaves out: "test" for pool "train", "train" for pool "test"), and its cache key, a hash of everything
// its weights depend on, so that experiments with the same data share one trained classifier.
std::string perceptual_classifier_file(const Config& config);
std::string perceptual_classifier_key(const Config& config);
inline constexpr std::string_view kPerceptualJobName = "perceptual-classifier";

// The signal records' folder: signals/<job>.h5 (a model's losses on the queries and RMIA's population).
inline constexpr std::string_view kSignalsFolder = "signals";

// The result group of one attack variant: "<attack id>-cal" or "<attack id>-uncal".
std::string attack_group_name(const std::string& attack, bool calibrated);
// fbb's second calibrated group, calibrated on squared distances (setting "fbb-squared"): "<attack id>-cal-squared".
std::string squared_calibration_group_name(const std::string& attack);

}  // namespace ganleaks::membership
