#pragma once
// The config of experiment.task = "membership" (GAN-Leaks, Chen et al. CCS 2020): victims trained at every
// training-set size, attacked in the settings of [attack], optionally under DP-SGD ([privacy]).
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "data/config.h"
#include "models/config.h"
#include "privacy/config.h"
#include "runner/config.h"
#include "train/config.h"

namespace ganleaks::membership {

inline constexpr std::string_view kTaskName = "membership";

struct SweepConfig {
  static constexpr std::string_view kSection = "sweep";
  std::vector<std::int64_t> train_sizes{64, 256, 1024};  // sorted ascending after reading

  void visit(KeyVisitor& v) {
    v.integers("train_sizes", train_sizes, {1, 10'000'000},
               "victim training-set sizes n (the swept variable); stored sorted ascending");
  }
  bool operator==(const SweepConfig&) const = default;
};

struct AttackConfig {
  static constexpr std::string_view kSection = "attack";
  static constexpr std::array<std::string_view, 9> kSettings{"fbb", "pbb", "wb", "dis", "mc", "domias",
                                                             "loss", "secmi", "pia"};
  static constexpr std::array<std::string_view, 3> kLatentInits{"nn", "zero", "random"};
  static constexpr std::array<std::string_view, 2> kLineSearches{"golden", "brent"};
  static constexpr std::array<std::string_view, 2> kPerceptualDistances{"lpips", "classifier"};
  static constexpr std::array<std::string_view, 2> kShadowModes{"online", "offline"};
  static constexpr std::array<std::string_view, 3> kShadowSpreads{"auto", "per-query", "global"};

  std::vector<std::string> settings{"fbb", "dis"};
  std::vector<bool> calibrated{false, true};
  std::int64_t max_queries = 500;
  std::int64_t fbb_samples = 20000;
  int block_size = 256;
  int bootstrap_resamples = 1000;
  double lambda_reg = 0.001;
  double lambda_lpips = 0;
  std::string lpips_model;
  std::string perceptual = "lpips";
  int wb_max_evaluations = 1000;
  int wb_history = 20;
  int wb_restarts = 1;
  std::string wb_init = "zero";  // the reference code's default (wb_*.py, pbb_*.py)
  int pbb_iterations = 10;
  std::string pbb_line_search = "golden";
  int pbb_line_evaluations = 10;
  double pbb_bracket = 1.0;
  std::string pbb_init = "zero";
  std::int64_t shadow_models = 0;
  std::string shadow_mode = "online";
  std::string shadow_spread = "auto";
  std::int64_t rmia_population = 500;
  double rmia_a = 0.3;
  double rmia_gamma = 1.0;
  std::vector<int> loss_timesteps{100};
  int loss_draws = 4;
  int secmi_t = 100;
  int secmi_interval = 10;
  int pia_t = 200;
  double pia_p = 4;

  bool any_calibrated() const;
  // pbb or wb runs with the classifier's perceptual distance (and so needs the classifier trained first).
  bool uses_perceptual_classifier() const;

  void visit(KeyVisitor& v) {
    v.choices("settings", settings, kSettings,
              "attacks to run (docs/attacks.md): `fbb` full black-box (nearest of k generated samples), `pbb` partial "
              "black-box (Powell search of z), `wb` white-box (L-BFGS search of z), `dis` discriminator score (LOGAN), "
              "`mc` Monte-Carlo ε-ball count (Hilprecht et al.), `domias` density ratio of generated vs reference data "
              "(van Breugel et al.); for diffusion models (`ddpm`): `loss` denoising error, `secmi` SecMI's t-error "
              "(Duan et al.), `pia` proximal initialisation (Kong et al.). With several models each gets the settings "
              "that apply to it: `pbb`, `wb` and `dis` skip `ddpm`, the diffusion settings skip the others");
    v.booleans("calibrated", calibrated,
               "which variants to report: `false` = raw scores, `true` = calibrated with the reference model G_r "
               "(GAN-Leaks Sec. 5.6); for `domias`, with the reference data");
    v.integer("max_queries", max_queries, {1, 10'000'000},
              "m: the query set has min(n, m) members plus as many non-members");
    v.integer("fbb_samples", fbb_samples, {1, 100'000'000},
              "k: generated samples per model for `fbb`, `mc`, `domias` and the `pbb` start (`pbb_init = \"nn\"`)");
    v.integer("block_size", block_size, {1, 65536},
              "queries per block, the unit of sharding over ranks; scores are bitwise identical for any rank count at "
              "a fixed `block_size`");
    v.integer("bootstrap_resamples", bootstrap_resamples, {0, 1'000'000},
              "stratified bootstrap resamples for the 95 % intervals of AUC and TPR@FPR; 0 = no intervals");
    v.real("lambda_reg", lambda_reg, kRegulariser,
           "weight of `(‖z‖² − dim z)²` added to the `pbb`/`wb` objective during optimisation (not to the score)");
    v.real("lambda_lpips", lambda_lpips, kRegulariser,
           "weight of the perceptual distance (`perceptual`) in the `pbb`/`wb` loss, search and score (the paper: 0.2 "
           "· LPIPS); > 0 needs images");
    v.text("lpips_model", lpips_model, kFilePath,
           "`perceptual = \"lpips\"`: a TorchScript LPIPS model called as `model(x, y)` on (B, 3, H, W) images in "
           "[-1, 1], returning B distances ((B) or (B, 1, 1, 1)); checked before the run starts. ganleaks ships no "
           "weights (none can be downloaded here): export one with the `lpips` package and `torch.jit.trace`");
    v.choice("perceptual", perceptual, kPerceptualDistances,
             "the perceptual distance `lambda_lpips` weighs: `lpips`, a user's TorchScript LPIPS (`lpips_model`), or "
             "`classifier`, ganleaks' offline stand-in: LPIPS's formula on a Fashion-MNIST classifier trained on the "
             "Fashion-MNIST file outside `data.pool` (needs `data.pool` = \"train\" or \"test\"; docs/attacks.md)");
    v.integer("wb_max_evaluations", wb_max_evaluations, {1, 1'000'000},
              "`wb`: generator evaluations (forward + backward) per query and restart");
    v.integer("wb_history", wb_history, {1, 1000}, "`wb`: L-BFGS history length");
    v.integer("wb_restarts", wb_restarts, {1, 100}, "`wb`: starts per query; the lowest loss is kept");
    v.choice("wb_init", wb_init, kLatentInits,
             "`wb`: the first start: zeros (the reference code's default), the latent of the query's nearest "
             "generated sample, or a seeded N(0, I) draw per query; further restarts are random");
    v.integer("pbb_iterations", pbb_iterations, {1, 10'000}, "`pbb`: Powell sweeps over all latent directions");
    v.choice("pbb_line_search", pbb_line_search, kLineSearches,
             "`pbb` line minimisation: `golden` (a fixed number of evaluations on a bounded interval, all queries in "
             "lock step) or `brent` (scipy's Powell line search, as the reference code: unbounded bracketing, then "
             "Brent's method to a relative step tolerance of 1e-2; evaluations differ per query)");
    v.integer("pbb_line_evaluations", pbb_line_evaluations, {2, 1000},
              "`pbb` with `golden`: generator queries per line minimisation");
    v.real("pbb_bracket", pbb_bracket, FloatRange{0.0, 1e3, true, false},
           "`pbb` with `golden`: each line minimisation searches steps in [-bracket, bracket]");
    v.choice("pbb_init", pbb_init, kLatentInits,
             "`pbb` start: zeros (the reference code's default), the latent of the query's nearest generated sample, "
             "or a seeded N(0, I) draw per query");
    v.integer("shadow_models", shadow_models, {0, 100'000},
              "K shadow models per victim for LiRA and RMIA (docs/attacks.md, \"Shadow models\"), trained like the "
              "victim on random halves of a shadow population, in pairs with complementary halves; an even number, "
              "0 = none");
    v.choice("shadow_mode", shadow_mode, kShadowModes,
             "`online`: the shadow population holds the queries, so each query trains half of the shadows (LiRA "
             "online, LiRA offline from the OUT half, RMIA); `offline`: it holds none (LiRA offline, RMIA offline)");
    v.choice("shadow_spread", shadow_spread, kShadowSpreads,
             "LiRA's Gaussian spread: one per query, or one pooled over all queries; `auto` pools below 64 shadows, "
             "as LiRA's authors advise");
    v.integer("rmia_population", rmia_population, {1, 10'000'000},
              "RMIA's population records z (from the reference split, never trained on) against which each query's "
              "likelihood ratio is compared");
    v.real("rmia_a", rmia_a, kProbability,
           "RMIA offline: Pr(x) ≈ ½((1 + a)·Pr_OUT(x) + (1 − a)) from the OUT shadows (ml_privacy_meter's default 0.3)");
    v.real("rmia_gamma", rmia_gamma, kPositive,
           "RMIA: a query beats a population record when its likelihood ratio over the record's exceeds γ");
    v.integers("loss_timesteps", loss_timesteps, {0, 99'999},
               "`loss`: the timesteps t at which the denoising error ‖ε − ε_θ(x_t, t)‖² is averaged (each below "
               "`model.diffusion_steps`)");
    v.integer("loss_draws", loss_draws, {1, 10'000}, "`loss`: seeded noise draws ε per query and timestep");
    v.integer("secmi_t", secmi_t, {1, 99'999},
              "`secmi`: t_SEC, where the reconstruction error is taken (a multiple of `secmi_interval`; SecMI: 100)");
    v.integer("secmi_interval", secmi_interval, {1, 10'000},
              "`secmi`: k, the DDIM stride of the inversion to t_SEC and of the step away and back (SecMI: 10)");
    v.integer("pia_t", pia_t, {1, 99'999}, "`pia`: the timestep of the error (PIA: 200)");
    v.real("pia_p", pia_p, FloatRange{1.0, 100.0, false, false},
           "`pia`: the error is the mean over the image of the absolute difference ε₀ − ε_θ(x_t, t) to the power p (PIA: p = 4)");
  }
  bool operator==(const AttackConfig&) const = default;
};

struct Config {
  ExperimentConfig experiment{.task = std::string(kTaskName)};
  DataConfig data;
  SweepConfig sweep;
  ModelConfig model;
  TrainConfig train;
  AttackConfig attack;
  PrivacyConfig privacy;
  // [[variant]] tables: the arms of an ablation (arms() below); empty for a plain sweep.
  std::vector<ConfigVariant> variants;
  std::string source;  // the file (or name) it was read from

  void visit(KeyVisitor& v) {
    v.section(experiment);
    v.section(data);
    v.section(sweep);
    v.section(model);
    v.section(train);
    v.section(attack);
    v.section(privacy);
  }
  bool operator==(const Config&) const = default;
};

// Reads and validates TOML text (source_name starts every error and becomes Config::source), the keys of every
// section and the rules between them; `other_sections` as read_config's.
Config parse_config(std::string_view toml_text, std::string_view source_name,
                    const std::function<std::string(std::string_view)>& other_sections = {});

// The sections a [[variant]] may set. Every arm attacks the same queries of the same splits: attack.max_queries
// and model.name stay the config's own (models are a dimension of their own).
inline constexpr std::array<std::string_view, 3> kVariantSections{"attack", "model", "train"};

// One arm of the sweep: a variant's label and the config it runs with (the file's, its overrides applied); a
// config without variants is one arm with an empty label.
struct Arm {
  std::string label;
  Config config;
};
std::vector<Arm> arms(const Config& config);

// Whether an attack setting applies to a model: `loss`, `secmi` and `pia` to diffusion models only; `pbb`, `wb` and
// `dis` to every other model; the sample-based `fbb`, `mc` and `domias` to all. A sweep over several models attacks
// each with the settings that apply to it.
bool applies(std::string_view setting, std::string_view model);
// The [attack] rules for diffusion models (shared with the audit): every setting applies to some model, and the
// timesteps the diffusion settings read lie within model.diffusion_steps. `fail` throws.
void check_diffusion_settings(const ModelConfig& model, const AttackConfig& attack,
                              const std::function<void(const std::string&)>& fail);

// The weight of the latent norm penalty in the pbb/wb searches against `model`: attack.lambda_reg, or 0 for a
// model GAN-Leaks' code searches without it (models::ModelInfo::latent_norm_penalty).
double search_lambda_reg(const Config& config, std::string_view model);

// Shadow models (attack.shadow_models > 0) need, from the reference split, the population's records beyond the
// queries (2n − 2m online, 2n offline) plus attack.rmia_population records z: the larger over sweep.train_sizes.
std::int64_t shadow_reference_records(const Config& config);

// Query-set size m for a training-set size n: min(n, attack.max_queries).
std::int64_t query_count(const Config& config, std::int64_t train_size);
// Hold-out size: enough non-members for the largest query set.
std::int64_t holdout_size(const Config& config);

}  // namespace ganleaks::membership
