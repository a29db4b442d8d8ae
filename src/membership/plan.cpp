#include "membership/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/errors.h"
#include "core/seeding.h"

namespace ganleaks::membership {
namespace {

std::string with_model(std::string name, const std::string& tag) { return tag.empty() ? name : tag + "-" + name; }

std::string_view kind_name(JobKind kind) {
  switch (kind) {
    case JobKind::kTrain: return "train";
    case JobKind::kAttack: return "attack";
    case JobKind::kPerceptual: return "perceptual";
    case JobKind::kSignals: return "signals";
    case JobKind::kShadowAttack: return "shadow-attack";
  }
  return "";
}
std::string_view role_name(const JobSpec& spec) {
  if (spec.kind != JobKind::kTrain) return "";
  switch (spec.role) {
    case Role::kVictim: return "victim";
    case Role::kReference: return "reference";
    case Role::kShadow: return "shadow";
  }
  return "";
}

// Everything a job's output depends on besides its dependencies (whose hashes the runner adds): the settings it
// reads, as resolved sections or single values. Deliberately broad within a section: a changed key of [train]
// redoes every training job, never reuses a stale one. Extending a sweep (another size, seed or attack) leaves
// the existing jobs' inputs, and so their records, valid. The fields' layout is the one job hashes have had
// since they were introduced, so that finished results stay valid across versions.
struct SectionTexts {  // the resolved sections jobs read, written once per plan (the same text for every job)
  // attack: what an attack or signal job reads, without the shadow-model keys, which only shadow attacks read
  // (so that raising K redoes no attack and no signal); shadow_attack: all of [attack].
  std::string data, train, attack, shadow_attack, privacy;
  explicit SectionTexts(const Config& c)
      : data(section_toml(c, "data")), train(section_toml(c, "train")),
        attack(without_shadow_keys(without_later_attack_defaults(section_toml(c, "attack")))),
        shadow_attack(section_toml(c, "attack")), privacy(section_toml(c, "privacy")) {}

  static std::string without_shadow_keys(std::string text) {
    for (const std::string_view key : {"shadow_models", "shadow_mode", "shadow_spread", "rmia_population", "rmia_a",
                                       "rmia_gamma"}) {
      const auto at = text.find("\n" + std::string(key) + " = ");
      if (at != std::string::npos) text.erase(at + 1, text.find('\n', at + 1) - at);
    }
    return text;
  }
};

std::string job_inputs(const Config& c, const SectionTexts& sections, const JobSpec& spec) {
  // The perceptual classifier is shared by experiments through its cache: its key is all it reads.
  if (spec.kind == JobKind::kPerceptual) return perceptual_classifier_key(c);
  auto text = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|||0|0||", kind_name(spec.kind), c.experiment.task, role_name(spec),
                          spec.setting, spec.train_size, spec.seed, spec.level.label, spec.model);
  text += sections.data;
  text += fmt::format("|z{}|w{}|threads{}", c.model.z_dim, c.model.width, c.experiment.threads_per_rank);
  text += diffusion_hash_text(c.model, spec.model);
  // Only bf16 changes what is computed (fp32 is every earlier version's arithmetic): fp32 jobs keep their hashes.
  if (c.experiment.precision != "fp32") text += "|precision " + c.experiment.precision;
  // `vaegan` named Larsen's model until issue #17 (now `vaegan-larsen`): its older results are another model's.
  if (spec.model == "vaegan") text += "|vaegan of GAN-Leaks";
  if (spec.kind == JobKind::kTrain) {
    text += sections.train + fmt::format("|ranks_per_run{}", c.experiment.ranks_per_run);
    text += fmt::format("|holdout{}", holdout_size(c));  // the split: with data.reference_size, n and the seed
    if (spec.level.dp()) text += sections.privacy;
    text += fmt::format("|seed{:016x}", spec.training_seed);
    // A shadow's rows (membership/shadow.h): its pair's permutation of a population that holds the queries online.
    if (spec.role == Role::kShadow) {
      text += fmt::format("|shadow{} {} m{}", spec.shadow, c.attack.shadow_mode, query_count(c, spec.train_size));
    }
  } else if (spec.kind == JobKind::kSignals) {
    text += sections.attack + fmt::format("|m{}|z{}", query_count(c, spec.train_size), c.attack.rmia_population);
  } else if (spec.kind == JobKind::kShadowAttack) {
    text += sections.shadow_attack + fmt::format("|m{}", query_count(c, spec.train_size));
  } else {
    text += sections.attack + fmt::format("|m{}", query_count(c, spec.train_size));
    // fbb's loss became the Euclidean distance (issue #17; it was the MSE): its calibrated scores changed.
    if (spec.setting == "fbb") text += "|fbb euclidean";
  }
  return text;
}

// One arm's jobs, through `add` (which names, hashes and deduplicates them).
template <class Add>
void add_arm(const Config& config, Add& add) {
  const auto levels = privacy::privacy_levels(config.privacy);
  const auto steps = config.train.iterations * config.train.critic_steps;  // every discriminator update is a DP step
  std::map<std::pair<std::string, std::int64_t>, privacy::DpSettings> resolved;  // (level, n): the accountant runs once
  const auto dp_for = [&](const privacy::PrivacyLevel& level, std::int64_t n) -> std::optional<privacy::DpSettings> {
    if (!level.dp()) return std::nullopt;
    auto it = resolved.find({level.label, n});
    if (it == resolved.end()) {
      try {
        it = resolved.emplace(std::pair{level.label, n},
                              privacy::dp_settings(config.privacy, level, steps, config.train.batch_size, n)).first;
      } catch (const std::invalid_argument& e) {  // a target ε no σ in the accountant's domain reaches
        throw ConfigError(fmt::format("{}: privacy level {} for victims of n = {} ({} steps): {}", config.source,
                                      level.display(), n, steps, e.what()));
      }
    }
    return it->second;
  };
  const int perceptual = config.attack.uses_perceptual_classifier()
                             ? add({.name = std::string(kPerceptualJobName)}, {.kind = JobKind::kPerceptual})
                             : -1;
  for (const auto& model : config.model.names) {
    const auto tag = model_tag(config, model);
    for (const auto seed : config.experiment.seeds) {
      int reference = -1;
      if (config.attack.any_calibrated()) {
        reference = add({.name = reference_run_name(seed, tag)},
                        {.kind = JobKind::kTrain, .role = Role::kReference, .model = model,
                         .train_size = config.data.reference_size, .seed = seed});
      }
      for (const auto& level : levels) {
        for (const auto n : config.sweep.train_sizes) {
          const auto dp = dp_for(level, n);
          const auto victim_name = victim_run_name(n, seed, level.label, tag);
          const int victim = add({.name = victim_name},
                                 {.kind = JobKind::kTrain, .role = Role::kVictim, .model = model, .train_size = n,
                                  .seed = seed, .level = level, .dp = dp});
          // Shadows: trained like the victim, on their halves of the shadow population (membership/shadow.h).
          std::vector<std::pair<std::string, int>> runs_to_score{{victim_name, victim}};
          for (int k = 0; k < config.attack.shadow_models; ++k) {
            const auto name = shadow_run_name(k, config.attack.shadow_mode, n, seed, level.label, tag);
            runs_to_score.emplace_back(name, add({.name = name},
                                                 {.kind = JobKind::kTrain, .role = Role::kShadow, .model = model,
                                                  .train_size = n, .seed = seed, .level = level, .dp = dp, .shadow = k}));
          }
          for (const auto& setting : config.attack.settings) {
            if (!applies(setting, model)) continue;
            runner::Job attack{.name = with_model(with_privacy(fmt::format("{}-n{}-s{}", setting, n, seed), level.label), tag),
                               .depends_on = {victim}};
            if (reference >= 0) attack.depends_on.push_back(reference);
            if (perceptual >= 0 && (setting == "pbb" || setting == "wb")) attack.depends_on.push_back(perceptual);
            add(std::move(attack), {.kind = JobKind::kAttack, .model = model, .setting = setting, .train_size = n,
                                    .seed = seed, .level = level, .dp = dp, .victim = victim, .reference = reference});
            if (config.attack.shadow_models == 0) continue;
            // K in the name: a folder grown to more shadows holds the new scores beside, not over, the old.
            runner::Job shadow_attack{.name = with_model(
                with_privacy(fmt::format("{}-shadows{}-n{}-s{}", setting, config.attack.shadow_models, n, seed), level.label),
                tag)};
            JobSpec scoring{.kind = JobKind::kShadowAttack, .model = model, .setting = setting, .train_size = n,
                            .seed = seed, .level = level, .dp = dp, .victim = victim};
            for (const auto& [run_name, run] : runs_to_score) {
              runner::Job signals{.name = fmt::format("signals-{}-{}", setting, run_name), .depends_on = {run}};
              if (perceptual >= 0 && (setting == "pbb" || setting == "wb")) signals.depends_on.push_back(perceptual);
              scoring.signals.push_back(add(std::move(signals), {.kind = JobKind::kSignals, .model = model, .setting = setting,
                                                                 .train_size = n, .seed = seed, .level = level, .dp = dp,
                                                                 .victim = run}));
            }
            shadow_attack.depends_on = scoring.signals;
            add(std::move(shadow_attack), std::move(scoring));
          }
        }
      }
    }
  }
}

}  // namespace

std::string with_variant(const std::string& name, const std::string& label) { return with_model(name, label); }
std::string with_privacy(std::string name, const std::string& privacy) {
  return privacy.empty() ? name : name + "-" + privacy;
}

std::string without_later_attack_defaults(std::string attack_toml) {
  // Every key of [attack] added after results existed: perceptual (issue #16), the diffusion settings' (#21).
  static const std::string defaults = section_toml(Config{}, "attack");
  for (const std::string_view key : {"perceptual", "loss_timesteps", "loss_draws", "secmi_t", "secmi_interval",
                                     "pia_t", "pia_p"}) {
    const auto at_default = defaults.find("\n" + std::string(key) + " = ");
    if (at_default == std::string::npos) throw std::logic_error("without_later_attack_defaults: no key " + std::string(key));
    const auto line = defaults.substr(at_default + 1, defaults.find('\n', at_default + 1) - at_default);
    if (const auto at = attack_toml.find("\n" + line); at != std::string::npos) attack_toml.erase(at + 1, line.size());
  }
  return attack_toml;
}

std::string model_tag(const Config& config, const std::string& model) {
  return config.model.names.size() > 1 ? model : "";
}
std::string victim_run_name(std::int64_t train_size, std::uint64_t seed, const std::string& privacy,
                            const std::string& model_tag) {
  return with_model(with_privacy(fmt::format("victim-n{}-s{}", train_size, seed), privacy), model_tag);
}
std::string reference_run_name(std::uint64_t seed, const std::string& model_tag) {
  return with_model(fmt::format("reference-s{}", seed), model_tag);
}
std::string shadow_run_name(int shadow, const std::string& mode, std::int64_t train_size, std::uint64_t seed,
                            const std::string& privacy, const std::string& model_tag) {
  return with_model(with_privacy(fmt::format("shadow{}-{}-n{}-s{}", shadow, mode, train_size, seed), privacy), model_tag);
}
std::string perceptual_classifier_file(const Config& config) { return config.data.pool == "test" ? "train" : "test"; }

std::string perceptual_classifier_key(const Config& config) {
  // Bump the version when the classifier's architecture or training changes (models/classifier.h defaults).
  const auto text = fmt::format("perceptual-classifier-v1|{}|{}|{}", config.data.path, perceptual_classifier_file(config),
                                config.data.image_size);
  return fmt::format("{:016x}", hash_tag(text));
}

std::string attack_group_name(const std::string& attack, bool calibrated) {
  return attack + (calibrated ? "-cal" : "-uncal");
}
std::string squared_calibration_group_name(const std::string& attack) { return attack_group_name(attack, true) + "-squared"; }

Plan make_plan(const Config& config) { return make_plan(arms(config)); }

Plan make_plan(const std::vector<Arm>& all_arms) {
  Plan plan;
  std::map<std::string, int> trained;  // a training, classifier or signal job's inputs -> its id: arms share them
  for (int a = 0; a < static_cast<int>(all_arms.size()); ++a) {
    // Not a structured binding: the lambda below captures these, which clang 14 (the sanitizer build) refuses.
    const std::string& label = all_arms[a].label;
    const Config& arm = all_arms[a].config;
    const SectionTexts sections(arm);
    // `name` without the variant's label: the training seed derives from it.
    auto add = [&](runner::Job job, JobSpec spec) {
      spec.arm = a;
      spec.variant = label;
      if (spec.kind == JobKind::kTrain) spec.training_seed = derive_seed(spec.seed, "run:" + job.name);
      job.name = spec.kind == JobKind::kPerceptual ? job.name : with_variant(job.name, label);
      job.inputs = job_inputs(arm, sections, spec);
      // A signal job is as much the model it scores as its settings (and shared by arms only with that model).
      if (spec.kind == JobKind::kSignals) job.inputs += "|scores " + plan.jobs[spec.victim].inputs;
      // Trainings, the classifier and signal jobs are shared by arms whose settings make the same output.
      const bool shared_by_arms =
          spec.kind == JobKind::kTrain || spec.kind == JobKind::kPerceptual || spec.kind == JobKind::kSignals;
      if (shared_by_arms) {
        if (const auto it = trained.find(job.inputs); it != trained.end()) return it->second;
      }
      job.id = static_cast<int>(plan.jobs.size());
      job.kind = std::string(kind_name(spec.kind));
      // Attacks and signals shard their queries and samples over every rank.
      job.collective = spec.kind == JobKind::kAttack || spec.kind == JobKind::kSignals;
      job.shared = (spec.kind == JobKind::kTrain && spec.role == Role::kReference) || spec.kind == JobKind::kPerceptual;
      if (shared_by_arms) trained.emplace(job.inputs, job.id);
      plan.jobs.push_back(std::move(job));
      plan.specs.push_back(std::move(spec));
      return plan.jobs.back().id;
    };
    add_arm(arm, add);
  }
  return plan;
}

}  // namespace ganleaks::membership
