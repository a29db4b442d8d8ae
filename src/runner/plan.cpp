#include "runner/plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "core/seeding.h"
#include "privacy/accountant.h"

namespace ganleaks::runner {

namespace {
std::string with_privacy(std::string name, const std::string& privacy) {
  return privacy.empty() ? name : name + "-" + privacy;
}
std::string with_model(std::string name, const std::string& tag) { return tag.empty() ? name : tag + "-" + name; }
}  // namespace

std::string_view kind_name(JobKind kind) {
  switch (kind) {
    case JobKind::kTrain: return "train";
    case JobKind::kAttack: return "attack";
    case JobKind::kClassifier: return "classifier";
    case JobKind::kQueries: return "queries";
    case JobKind::kRefine: return "refine";
    case JobKind::kEvaluate: return "evaluate";
  }
  return "?";
}

std::string PrivacyLevel::display() const {
  if (!dp()) return "non-private";
  return target_epsilon > 0 ? fmt::format("DP ε={}", target_epsilon) : fmt::format("DP σ={}", noise_multiplier);
}

std::vector<PrivacyLevel> privacy_levels(const Config& config) {
  std::vector<PrivacyLevel> levels;
  if (config.privacy.non_private) levels.push_back({});
  for (double e : config.privacy.target_epsilons) levels.push_back({.label = fmt::format("eps{}", e), .target_epsilon = e});
  for (double s : config.privacy.noise_multipliers) levels.push_back({.label = fmt::format("sigma{}", s), .noise_multiplier = s});
  return levels;
}

PrivacyLevel privacy_level(const Config& config, const std::string& label) {
  for (auto& level : privacy_levels(config)) {
    if (level.label == label) return level;
  }
  throw std::invalid_argument(fmt::format("no privacy level '{}' in this config", label));
}

DpSettings dp_settings(const Config& config, const PrivacyLevel& level, std::int64_t train_size) {
  if (!level.dp()) throw std::invalid_argument("dp_settings: a non-private level");
  DpSettings s;
  s.max_grad_norm = config.privacy.max_grad_norm;
  s.steps = config.train.iterations * config.train.critic_steps;  // every discriminator update is a DP step
  s.sample_rate = config.privacy.sample_rate > 0
                      ? config.privacy.sample_rate
                      : std::min(1.0, static_cast<double>(config.train.batch_size) / static_cast<double>(train_size));
  if (config.privacy.delta > 0) {
    s.delta = config.privacy.delta;
  } else {
    std::int64_t power = 1;  // the smallest power of ten >= n, exactly
    while (power < train_size) power *= 10;
    s.delta = 1.0 / static_cast<double>(power);
  }
  s.noise_multiplier = level.noise_multiplier > 0
                           ? level.noise_multiplier
                           : privacy::noise_multiplier_for(level.target_epsilon, s.sample_rate, s.steps, s.delta);
  const auto spent = privacy::epsilon(s.sample_rate, s.noise_multiplier, s.steps, s.delta);
  s.epsilon = spent.epsilon;
  s.order = spent.order;
  return s;
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
std::string target_run_name(const Config& config, const std::string& target_model, std::uint64_t seed) {
  return with_model(fmt::format("target-s{}", seed), model_tag(config, target_model));
}
std::string target_evaluation_name(const Config& config, const std::string& target_model, std::uint64_t seed) {
  return with_model(fmt::format("eval-target-s{}", seed), model_tag(config, target_model));
}
std::string attack_group_name(const Job& attack, bool calibrated) {
  return attack.name + (calibrated ? "-cal" : "-uncal");
}

std::int64_t query_count(const Config& config, std::int64_t train_size) {
  return std::min(train_size, config.attack.max_queries);
}

std::int64_t holdout_size(const Config& config) {
  return query_count(config, config.sweep.train_sizes.back());  // train_sizes is sorted ascending
}

namespace {

std::vector<Job> make_membership_plan(const Config& config) {
  std::vector<Job> jobs;
  const bool needs_reference =
      std::find(config.attack.calibrated.begin(), config.attack.calibrated.end(), true) !=
      config.attack.calibrated.end();
  auto add = [&](Job job) {
    job.id = static_cast<int>(jobs.size());
    jobs.push_back(std::move(job));
    return jobs.back().id;
  };
  for (const auto& model : config.model.names) {
    const auto tag = model_tag(config, model);
    for (const auto seed : config.experiment.seeds) {
      int reference = -1;
      if (needs_reference) {
        reference = add({.kind = JobKind::kTrain, .name = reference_run_name(seed, tag), .role = "reference",
                         .train_size = config.data.reference_size, .seed = seed, .model = model});
      }
      for (const auto& level : privacy_levels(config)) {
        for (const auto n : config.sweep.train_sizes) {
          const int victim = add({.kind = JobKind::kTrain, .name = victim_run_name(n, seed, level.label, tag),
                                  .role = "victim", .train_size = n, .seed = seed, .privacy = level.label, .model = model});
          for (const auto& setting : config.attack.settings) {
            Job attack{.kind = JobKind::kAttack,
                       .name = with_model(with_privacy(fmt::format("{}-n{}-s{}", setting, n, seed), level.label), tag),
                       .setting = setting, .train_size = n, .seed = seed, .privacy = level.label, .model = model,
                       .depends_on = {victim}};
            if (reference >= 0) attack.depends_on.push_back(reference);
            add(std::move(attack));
          }
        }
      }
    }
  }
  return jobs;
}

std::string number(double v) { return fmt::format("{}", v); }  // shortest round-trip form: 0.1, 3, 20

// Stealing GANs (docs/extraction.md): per (target model, seed) the target, its baseline evaluation, the answers
// to the thief's queries per prior and defense, the attack GANs trained on them (fidelity extraction) or on
// refined samples plus partial real data (accuracy extraction), their evaluations, and the transfer study.
std::vector<Job> make_extraction_plan(const Config& config) {
  const auto& e = config.extraction;
  std::vector<Job> jobs;
  auto add = [&](Job job) {
    job.id = static_cast<int>(jobs.size());
    jobs.push_back(std::move(job));
    return jobs.back().id;
  };
  const int classifier = add({.kind = JobKind::kClassifier, .name = "classifier", .seed = config.features.classifier_seed});
  const auto budgets = fidelity_budgets(config);
  for (const auto& target_model : config.model.names) {
    const auto tag = model_tag(config, target_model);
    for (const auto seed : config.experiment.seeds) {
      const auto named = [&](const std::string& base) { return with_model(fmt::format("{}-s{}", base, seed), tag); };
      const int target = add({.kind = JobKind::kTrain, .name = target_run_name(config, target_model, seed), .role = "target",
                              .train_size = e.target_train_size, .seed = seed, .model = target_model});
      const int baseline = add({.kind = JobKind::kEvaluate, .name = target_evaluation_name(config, target_model, seed), .role = "target", .seed = seed,
                                .model = target_model, .depends_on = {target, classifier}, .input = jobs[target].name,
                                .method = "target"});
      // One attack GAN per attack model on the first n answers of a query or refine job, and its evaluation.
      const auto attack = [&](const Job& data, std::int64_t n, const std::string& what, const std::string& method) {
        std::vector<int> runs;
        for (const auto& attack_model : e.attack_models) {
          const int run = add({.kind = JobKind::kTrain, .name = named(fmt::format("attack-{}-{}-q{}", attack_model, what, n)),
                               .role = "attack", .train_size = n, .seed = seed, .model = attack_model,
                               .depends_on = {data.id}, .prior = data.prior, .defense = data.defense,
                               .strength = data.strength, .queries = n, .input = data.name, .method = method});
          add({.kind = JobKind::kEvaluate, .name = "eval-" + jobs[run].name, .role = "attack", .seed = seed,
               .model = target_model, .depends_on = {run, baseline}, .prior = data.prior, .defense = data.defense,
               .strength = data.strength, .queries = n, .input = jobs[run].name, .method = method});
          runs.push_back(run);
        }
        return runs;
      };
      int largest_fidelity_run = -1;  // the transfer study's source
      for (const auto& prior : e.priors) {
        const Job answers = jobs[add({.kind = JobKind::kQueries, .name = named("queries-" + prior), .seed = seed,
                                      .model = target_model, .depends_on = {target, classifier}, .prior = prior,
                                      .queries = budgets.back()})];
        for (const auto n : budgets) {
          const auto runs = attack(answers, n, prior, "fidelity");
          if (largest_fidelity_run < 0 && n == budgets.back()) largest_fidelity_run = runs.front();
        }
      }
      for (const auto& variant : defense_variants(config)) {  // every defense against the first prior
        const auto& prior = e.priors.front();
        const Job answers = jobs[add({.kind = JobKind::kQueries, .name = named(fmt::format("queries-{}-{}", prior, variant.label())),
                                      .seed = seed, .model = target_model, .depends_on = {target, classifier},
                                      .prior = prior, .defense = variant.name, .strength = variant.strength,
                                      .queries = e.defense_queries})];
        attack(answers, e.defense_queries, prior + "-" + variant.label(), "fidelity");
      }
      for (const auto& refiner : e.refiners) {
        for (const auto q : e.accuracy_queries) {
          const Job refined = jobs[add({.kind = JobKind::kRefine, .name = named(fmt::format("refined-{}-q{}", refiner, q)),
                                        .setting = refiner, .seed = seed, .model = target_model,
                                        .depends_on = {target}, .prior = "normal", .queries = q})];
          attack(refined, q, refiner, "accuracy-" + refiner);
        }
      }
      if (e.transfer) {
        const auto& source = jobs[largest_fidelity_run];
        for (const bool finetune : {true, false}) {
          const auto method = std::string(finetune ? "transfer-finetune" : "transfer-scratch");
          const int run = add({.kind = JobKind::kTrain, .name = named(fmt::format("{}-{}", method, source.model)),
                               .role = "transfer", .train_size = e.transfer_train_size, .seed = seed,
                               .model = source.model,
                               .depends_on = finetune ? std::vector<int>{source.id} : std::vector<int>{},
                               .init = finetune ? source.name : "", .method = method});
          add({.kind = JobKind::kEvaluate, .name = "eval-" + jobs[run].name, .role = "transfer", .seed = seed,
               .model = target_model, .depends_on = {run, classifier}, .input = jobs[run].name, .method = method});
        }
      }
    }
  }
  return jobs;
}

// Everything a job's output depends on besides its dependencies (whose hashes job_hash adds): the settings it
// reads, as resolved TOML sections or single values. Deliberately broad within a section: a changed key of
// [train] redoes every training job, never reuses a stale one. Extending a sweep (another size, seed, attack,
// budget or defense) leaves the existing jobs' inputs, and so their records, valid.
std::string job_inputs(const Config& c, const Job& job) {
  // The classifier is shared by experiments through its cache (Layout::classifier_dir): its key is all it reads.
  if (job.kind == JobKind::kClassifier) return classifier_cache_key(c);
  const auto& e = c.extraction;
  std::string text = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", kind_name(job.kind), c.experiment.task,
                                 job.role, job.setting, job.train_size, job.seed, job.privacy, job.model, job.prior,
                                 job.defense, number(job.strength), job.queries, job.method, job.init);
  text += section_toml(c, "data");
  text += fmt::format("|z{}|w{}|threads{}", c.model.z_dim, c.model.width, c.experiment.threads_per_rank);
  const auto feature_sections = [&] { return section_toml(c, "features") + fmt::format("|fid{}", e.fid_samples); };
  switch (job.kind) {
    case JobKind::kTrain:
      text += section_toml(c, "train") + fmt::format("|ranks_per_run{}", c.experiment.ranks_per_run);
      if (job.role == "victim" || job.role == "reference") {
        text += fmt::format("|holdout{}", holdout_size(c));  // the split: with data.reference_size, n and the seed
        if (!job.privacy.empty()) text += section_toml(c, "privacy");
      } else {
        text += fmt::format("|target{}:{}", e.target_train_size, fmt::join(e.target_classes, ","));
        if (job.role == "transfer") {
          text += fmt::format("|transfer{}:{}:{}", e.transfer_train_size, fmt::join(e.transfer_classes, ","),
                              e.transfer_iterations);
        }
        if (job.method.starts_with("accuracy")) text += fmt::format("|partial{}", e.partial_real);
        if (job.role == "attack") text += fmt::format("|steps{}", training_iterations(c, job));
      }
      break;
    case JobKind::kAttack:
      text += section_toml(c, "attack") + fmt::format("|m{}", query_count(c, job.train_size));
      break;
    case JobKind::kClassifier: break;
    case JobKind::kQueries: text += section_toml(c, "defenses") + feature_sections(); break;
    case JobKind::kRefine:
      text += fmt::format("|target{}:{}|partial{}|K{}|{}|drs{}", e.target_train_size, fmt::join(e.target_classes, ","),
                          e.partial_real, e.mh_chain_length, e.calibration, number(e.drs_gamma_quantile));
      break;
    case JobKind::kEvaluate:
      text += feature_sections() + fmt::format("|target{}:{}|transfer{}:{}", e.target_train_size,
                                               fmt::join(e.target_classes, ","), e.transfer_train_size,
                                               fmt::join(e.transfer_classes, ","));
      break;
  }
  return text;
}

}  // namespace

std::uint64_t training_seed(const Job& job) {
  return derive_seed(job.seed, job.role == "attack" ? "thief:" + job.model : "run:" + job.name);
}

std::int64_t training_iterations(const Config& config, const Job& job) {
  const auto& e = config.extraction;
  if (job.role == "transfer") return e.transfer_iterations;
  if (job.role == "attack" && e.attack_iterations > 0) return e.attack_iterations;
  return config.train.iterations;
}

std::vector<Job> make_plan(const Config& config) {
  auto jobs = config.experiment.task == "extraction" ? make_extraction_plan(config) : make_membership_plan(config);
  for (auto& job : jobs) {  // dependencies come first, so their hashes are ready
    auto text = job_inputs(config, job);
    if (job.trains()) text += fmt::format("|seed{:016x}", training_seed(job));
    for (const int d : job.depends_on) text += "|" + jobs[d].hash;
    job.hash = fmt::format("{:016x}", hash_tag(text));
  }
  return jobs;
}

bool shared_job(const Job& job) {
  return job.role == "reference" || job.role == "target" || job.kind == JobKind::kClassifier ||
         job.kind == JobKind::kQueries || job.kind == JobKind::kRefine || job.method == "target";
}

std::vector<bool> jobs_in_slice(const std::vector<Job>& jobs, const Slice& slice) {
  std::vector<int> unit(jobs.size(), -1);
  int units = 0;
  for (const auto& job : jobs) {  // dependencies come first in the plan
    if (shared_job(job)) continue;
    const auto first = std::ranges::find_if(job.depends_on, [&](int d) { return !shared_job(jobs[d]); });
    unit[job.id] = first != job.depends_on.end() ? unit[*first] : units++;
  }
  std::vector<bool> in(jobs.size(), false);
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {  // dependents before their dependencies
    if (unit[it->id] >= 0 && unit[it->id] % slice.count == slice.index) in[it->id] = true;
    if (in[it->id]) {
      for (const int d : it->depends_on) in[d] = true;
    }
  }
  return in;
}

std::vector<std::int64_t> fidelity_budgets(const Config& config) {
  const auto& e = config.extraction;
  std::vector<std::int64_t> budgets = e.fidelity_queries;
  if (!e.defenses.empty()) budgets.push_back(e.defense_queries);
  budgets.insert(budgets.end(), e.accuracy_queries.begin(), e.accuracy_queries.end());
  std::ranges::sort(budgets);
  budgets.erase(std::unique(budgets.begin(), budgets.end()), budgets.end());
  return budgets;
}

std::string classifier_cache_key(const Config& config) {
  const auto& f = config.features;
  // Bump the version when the classifier's architecture or training changes.
  const auto text = fmt::format("classifier-v1|{}|{}|{}|{}|{}|{}|{}|{}", config.data.path, config.data.image_size,
                                f.classifier_width, f.classifier_feature_dim, f.classifier_iterations,
                                f.classifier_batch_size, f.classifier_lr, f.classifier_seed);
  return fmt::format("{:016x}", hash_tag(text));
}

std::string DefenseVariant::label() const { return name + number(strength); }

std::vector<DefenseVariant> defense_variants(const Config& config) {
  const auto& d = config.defenses;
  std::vector<DefenseVariant> out;
  for (const auto& name : config.extraction.defenses) {
    const auto grid = [&]() -> std::vector<double> {
      if (name == "linear") return d.linear_strength;
      if (name == "semantic") return d.semantic_magnitude;
      if (name == "gaussian-noise") return d.noise_std;
      if (name == "adversarial-noise") return d.adversarial_epsilon;
      if (name == "gaussian-filter") return d.filter_sigma;
      if (name == "jpeg") return {d.jpeg_quality.begin(), d.jpeg_quality.end()};
      throw std::invalid_argument("defense_variants: unknown defense " + name);
    }();
    for (const double strength : grid) out.push_back({name, strength});
  }
  return out;
}

}  // namespace ganleaks::runner
