#pragma once
// The config of experiment.task = "audit" (issue #20; docs/privacy.md, "Auditing"): membership inference's
// victims ([data], [model], [train], [privacy] as there) trained with and without canaries, each scored on its
// canaries by the attack settings of [attack] (uncalibrated), and lower bounds on ε from those scores at a stated
// confidence: the multi-run audit (Jagielski et al. 2020) and the one-run audit (Steinke, Nasr & Jagielski 2023).
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "data/config.h"
#include "membership/config.h"
#include "models/config.h"
#include "privacy/config.h"
#include "runner/config.h"
#include "train/config.h"

namespace ganleaks::audit {

inline constexpr std::string_view kTaskName = "audit";

struct AuditConfig {
  static constexpr std::string_view kSection = "audit";
  static constexpr std::array<std::string_view, 3> kCanaries{"pool", "inverted", "noise"};

  std::int64_t train_size = 64;
  std::string canary = "inverted";
  bool train_on_canaries = true;
  std::int64_t runs = 16;
  std::int64_t threshold_runs = 8;
  std::int64_t canaries = 0;
  std::int64_t guesses_in = 4;
  std::int64_t guesses_out = 4;
  double confidence = 0.95;

  void visit(KeyVisitor& v) {
    v.integer("train_size", train_size, {1, 10'000'000},
              "n: every audited model trains on the same n records of the pool, plus its canaries");
    v.choice("canary", canary, kCanaries,
             "the canaries: `pool`, records of the pool outside the training set; `inverted`, such records with every "
             "value reflected (255 − pixel, 1 − feature), out of distribution; `noise`, seeded uniform noise in the "
             "data's range. Crafted canaries influence the model more, so they show more of the leak");
    v.boolean("train_on_canaries", train_on_canaries,
              "`false`: a null audit, a check of the procedure: the runs \"with\" the canary and the canaries "
              "\"included\" are not trained on, so ε_LB must be 0 (at the confidence's rate)");
    v.integer("runs", runs, {0, 1'000'000},
              "multi-run audit: T models trained with the canary and T without; 0 = no multi-run audit");
    v.integer("threshold_runs", threshold_runs, {1, 1'000'000},
              "multi-run audit: the first runs of each side choose the score threshold, the other T − threshold_runs "
              "count the errors that bound ε (a threshold chosen on the counted runs would not give a valid bound)");
    v.integer("canaries", canaries, {0, 1'000'000},
              "one-run audit: m canaries, each included with probability ½ in one training run; 0 = no one-run audit");
    v.integer("guesses_in", guesses_in, {0, 1'000'000},
              "one-run audit: k₊, the canaries with the most member-like scores guessed included (fixed before scoring)");
    v.integer("guesses_out", guesses_out, {0, 1'000'000},
              "one-run audit: k₋, the canaries with the least member-like scores guessed excluded");
    v.real("confidence", confidence, kOpenUnit,
           "the bounds hold with this probability: the level of the two-sided Clopper–Pearson intervals (multi-run) "
           "and 1 − α of the one-run test");
  }
  bool operator==(const AuditConfig&) const = default;
};

struct Config {
  ExperimentConfig experiment{.task = std::string(kTaskName)};
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  // The audit scores raw signals: one per setting of attack.settings, never calibrated.
  membership::AttackConfig attack{.settings = {"dis"}, .calibrated = {false}};
  PrivacyConfig privacy;
  AuditConfig audit;
  std::string source;  // the file (or name) it was read from

  void visit(KeyVisitor& v) {
    v.section(experiment);
    v.section(data);
    v.section(model);
    v.section(train);
    v.section(attack);
    v.section(privacy);
    v.section(audit);
  }
  bool operator==(const Config&) const = default;
};

// Reads and validates TOML text (source_name starts every error); `other_sections` as read_config's.
Config parse_config(std::string_view toml_text, std::string_view source_name,
                    const std::function<std::string(std::string_view)>& other_sections = {});

// The same settings as membership inference's config, which trains the audited models and scores them with its
// attack code: one training-set size, audit.train_size.
membership::Config membership_view(const Config& config);

}  // namespace ganleaks::audit
