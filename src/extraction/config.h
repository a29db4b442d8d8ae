#pragma once
// The config of experiment.task = "extraction" (Stealing GANs, Hu & Pang ACSAC 2021; SPEC §3;
// docs/extraction.md): the target is model.name, trained like any model of the zoo on target_train_size real
// records; the thief trains attack_models on what the target answers.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "data/config.h"
#include "models/config.h"
#include "runner/config.h"
#include "train/config.h"

namespace ganleaks::extraction {

inline constexpr std::string_view kTaskName = "extraction";
inline constexpr std::array<std::string_view, 6> kDefenseNames{"linear",           "semantic",        "gaussian-noise",
                                                             "adversarial-noise", "gaussian-filter", "jpeg"};

struct ExtractionConfig {
  static constexpr std::string_view kSection = "extraction";
  static constexpr std::array<std::string_view, 2> kPriors{"normal", "uniform"};
  static constexpr std::array<std::string_view, 2> kRefiners{"mh", "drs"};
  static constexpr std::array<std::string_view, 2> kCalibrations{"isotonic", "platt"};

  std::int64_t target_train_size = 4096;
  std::vector<std::int64_t> target_classes;
  std::vector<std::string> attack_models{"dcgan"};
  std::int64_t attack_iterations = 0;
  std::vector<std::string> priors{"normal"};
  std::vector<std::int64_t> fidelity_queries{10000, 20000, 50000};
  std::vector<std::int64_t> accuracy_queries;
  std::vector<std::string> refiners{"mh"};
  std::string calibration = "isotonic";
  std::int64_t mh_chain_length = 640;
  double drs_gamma_quantile = 0.95;
  std::int64_t partial_real = 1000;
  std::vector<std::string> defenses;
  std::int64_t defense_queries = 20000;
  std::int64_t fid_samples = 5000;
  bool transfer = false;
  std::vector<std::int64_t> transfer_classes{5, 6, 7, 8, 9};
  std::int64_t transfer_train_size = 1000;
  std::int64_t transfer_iterations = 1000;

  void visit(KeyVisitor& v) {
    v.integer("target_train_size", target_train_size, {1, 10'000'000},
              "the target's training records (the real side of every accuracy FID); more than "
              "`features.classifier_feature_dim`");
    v.integers("target_classes", target_classes, {0, 9},
               "the target sees only these classes (`[]`: all); the transfer study needs them", /*may_be_empty=*/true);
    v.choices("attack_models", attack_models, models::kModelNames,
              "the thief's models, image models of the zoo (the architecture need not match the target's)");
    v.integer("attack_iterations", attack_iterations, {0, 1'000'000'000},
              "the thief's training steps (its own budget, not the owner's); 0 = `train.iterations`");
    v.choices("priors", priors, kPriors,
              "the thief's latents: N(0, I) or U(-1, 1) (the paper's Table 7); defenses use the first");
    v.integers("fidelity_queries", fidelity_queries, {1, 100'000'000},
               "budgets N of fidelity extraction (the attack GAN trains on the first N answers); fidelity extraction "
               "also runs at `defense_queries` and every `accuracy_queries`, so each has its undefended baseline");
    v.integers("accuracy_queries", accuracy_queries, {1, 100'000'000},
               "budgets Q of accuracy extraction, each at least `partial_real` + one chain (MH) or + 1 (DRS): every "
               "generator call counts (calibration samples, every MH proposal, every DRS proposal)",
               /*may_be_empty=*/true);
    v.choices("refiners", refiners, kRefiners,
              "Metropolis-Hastings subsampling (Turner et al. 2019) or Discriminator Rejection Sampling (Azadi et al. "
              "2019) with the target's discriminator");
    v.choice("calibration", calibration, kCalibrations,
             "how the discriminator's logits become probabilities (on the thief's real records vs as many generated "
             "samples)");
    v.integer("mh_chain_length", mh_chain_length, {1, 1'000'000},
              "K proposals per MH chain (one refined sample per chain)");
    v.real("drs_gamma_quantile", drs_gamma_quantile, kOpenUnit,
           "DRS: γ puts this quantile of F(x) on the burn-in samples at 0");
    v.integer("partial_real", partial_real, {1, 10'000'000},
              "real records the thief holds (the first of the target's training set, at most `target_train_size`): "
              "calibration, and added to the refined samples for training");
    v.choices("defenses", defenses, kDefenseNames,
              "defended targets, each at every strength of its `[defenses]` grid, attacked at `defense_queries`",
              /*may_be_empty=*/true);
    v.integer("defense_queries", defense_queries, {1, 100'000'000},
              "the budget at which every defense is evaluated; more than the feature dimension");
    v.integer("fid_samples", fid_samples, {2, 10'000'000},
              "generated samples per FID (and the first answers for a defense's utility cost); more than the feature "
              "dimension");
    v.boolean("transfer", transfer,
              "the transfer study: fine-tune the largest undefended fidelity extraction on `transfer_classes` vs "
              "training from scratch; needs `target_classes`");
    v.integers("transfer_classes", transfer_classes, {0, 9}, "the new domain, disjoint from `target_classes`");
    v.integer("transfer_train_size", transfer_train_size, {1, 10'000'000}, "its records");
    v.integer("transfer_iterations", transfer_iterations, {1, 1'000'000'000}, "training steps of both transfer runs");
  }
  bool operator==(const ExtractionConfig&) const = default;
};

// The strength grids of the defenses: every value is one defended variant of the target (SPEC §3 "Defenses").
struct DefenseConfig {
  static constexpr std::string_view kSection = "defenses";
  std::vector<double> linear_strength{0.5};
  std::int64_t linear_partners = 16;
  std::vector<double> semantic_magnitude{3.0};
  std::int64_t semantic_samples = 2000;
  std::int64_t semantic_k = 200;
  std::vector<double> noise_std{0.1};
  std::vector<double> adversarial_epsilon{0.03};
  int adversarial_steps = 1;
  std::vector<double> filter_sigma{1.0};
  std::vector<std::int64_t> jpeg_quality{20};

  void visit(KeyVisitor& v) {
    v.reals("linear_strength", linear_strength, kProbability,
            "`linear`: z' = (1 − s) z + s p with p from the owner's secret latents");
    v.integer("linear_partners", linear_partners, {1, 1'000'000}, "how many secret latents the owner keeps");
    v.reals("semantic_magnitude", semantic_magnitude, kStrength,
            "`semantic`: z' = z + m n, n the unit normal of a class hyperplane (the paper: m = 3)");
    v.integer("semantic_samples", semantic_samples, {2, 10'000'000},
              "target samples the classifier scores to fit the ten class hyperplanes (linear SVMs, LIBLINEAR); at "
              "least 2 × `semantic_k`");
    v.integer("semantic_k", semantic_k, {1, 5'000'000}, "the k highest- and k lowest-scored latents label each SVM");
    v.reals("noise_std", noise_std, kStrength, "`gaussian-noise`: σ of the added noise, on the [-1, 1] pixel scale");
    v.reals("adversarial_epsilon", adversarial_epsilon, kStrength,
            "`adversarial-noise`: L∞ radius of the PGD perturbation against the classifier");
    v.integer("adversarial_steps", adversarial_steps, {1, 1000}, "PGD steps (1 = FGSM)");
    v.reals("filter_sigma", filter_sigma, kStrength, "`gaussian-filter`: σ in pixels");
    v.integers("jpeg_quality", jpeg_quality, {1, 100}, "`jpeg`: libjpeg-turbo quality (lower = stronger)");
  }
  bool operator==(const DefenseConfig&) const = default;
};

// The network behind every extraction FID and class histogram (SPEC §4).
struct FeaturesConfig {
  static constexpr std::string_view kSection = "features";
  static constexpr std::array<std::string_view, 2> kExtractors{"classifier", "torchscript"};
  static constexpr std::array<std::string_view, 2> kInputRanges{"0-1", "-1-1"};
  static constexpr std::array<std::int64_t, 2> kChannelCounts{1, 3};

  std::string extractor = "classifier";
  std::string torchscript_model;
  int input_size = 299;
  int channels = 3;
  std::string input_range = "0-1";
  std::int64_t classifier_iterations = 3000;
  int classifier_batch_size = 64;
  double classifier_lr = 2e-3;
  int classifier_width = 24;
  int classifier_feature_dim = 64;
  std::uint64_t classifier_seed = 0;

  void visit(KeyVisitor& v) {
    v.choice("extractor", extractor, kExtractors,
             "FID features: the project's Fashion-MNIST classifier (trained once per setting, cached under "
             "`results_dir/cache/`), or a user's TorchScript network (e.g. Inception-v3 pool3); the classifier gives "
             "the class histograms either way");
    v.text("torchscript_model", torchscript_model, kFilePath,
           "`torchscript`: a TorchScript file whose `forward(x)` on (B, channels, S, S) returns (B, d) or (B, d, 1, 1) "
           "features; checked before the run");
    v.integer("input_size", input_size, {8, 4096}, "`torchscript`: images resized to S × S (bilinear)");
    v.integer("channels", channels, kChannelCounts, "`torchscript`: input channels (grey repeated to 3)");
    v.choice("input_range", input_range, kInputRanges,
             "`torchscript`: the pixel range the network expects (pytorch-fid's wrapper: [0, 1])");
    v.integer("classifier_iterations", classifier_iterations, {1, 1'000'000'000},
              "classifier training steps (≈ 3.2 epochs of Fashion-MNIST's 60 000 training images: 91 % test "
              "accuracy, ~40 s)");
    v.integer("classifier_batch_size", classifier_batch_size, {1, 65536}, "its batch");
    v.real("classifier_lr", classifier_lr, kLearningRate, "its Adam learning rate (cosine decay to 0)");
    v.integer("classifier_width", classifier_width, {4, 1024}, "its first convolution's channels");
    v.integer("classifier_feature_dim", classifier_feature_dim, {2, 65536},
              "the feature dimension d of FID (every FID needs N > d samples)");
    v.integer("classifier_seed", classifier_seed, {0, kMaxSeed}, "its initialisation and batch order");
  }
  bool operator==(const FeaturesConfig&) const = default;
};

struct Config {
  ExperimentConfig experiment{.task = std::string(kTaskName)};
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  ExtractionConfig extraction;
  DefenseConfig defenses;
  FeaturesConfig features;
  std::string source;

  void visit(KeyVisitor& v) {
    v.section(experiment);
    v.section(data);
    v.section(model);
    v.section(train);
    v.section(extraction);
    v.section(defenses);
    v.section(features);
  }
  bool operator==(const Config&) const = default;
};

// Reads and validates TOML text: every section's keys and the rules between them (images only, FID sample counts
// above the feature dimension, budgets that pay for a chain, the transfer domain new to the target, ...).
Config parse_config(std::string_view toml_text, std::string_view source_name,
                    const std::function<std::string(std::string_view)>& other_sections = {});

}  // namespace ganleaks::extraction
