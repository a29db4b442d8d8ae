#include "extraction/plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "core/seeding.h"

namespace ganleaks::extraction {
namespace {

std::string with_model(std::string name, const std::string& tag) { return tag.empty() ? name : tag + "-" + name; }
std::string number(double v) { return fmt::format("{}", v); }  // shortest round-trip form: 0.1, 3, 20

std::string_view kind_name(JobKind kind) {
  switch (kind) {
    case JobKind::kTrain: return "train";
    case JobKind::kClassifier: return "classifier";
    case JobKind::kQueries: return "queries";
    case JobKind::kRefine: return "refine";
    case JobKind::kEvaluate: return "evaluate";
  }
  return "?";
}
std::string_view role_name(Role role) {
  switch (role) {
    case Role::kNone: return "";
    case Role::kTarget: return "target";
    case Role::kAttack: return "attack";
    case Role::kTransfer: return "transfer";
  }
  return "?";
}

std::string target_classes(const Config& c) {
  return fmt::format("|target{}:{}", c.extraction.target_train_size, fmt::join(c.extraction.target_classes, ","));
}

// Everything a job's output depends on besides its dependencies (whose hashes the runner adds): the settings it
// reads, as resolved sections or single values. Deliberately broad within a section. Extending a sweep (another
// budget or defense) leaves the existing jobs' inputs, and so their records, valid. The fields' layout is the one
// job hashes have had since they were introduced, so that finished results stay valid across versions.
struct SectionTexts {  // the resolved sections jobs read, written once per plan (the same text for every job)
  std::string data, train, defenses, features, classifier_key;
  explicit SectionTexts(const Config& c)
      : data(section_toml(c, "data")), train(section_toml(c, "train")), defenses(section_toml(c, "defenses")),
        features(section_toml(c, "features")), classifier_key(classifier_cache_key(c)) {}
};

std::string job_inputs(const Config& c, const SectionTexts& sections, const JobSpec& s) {
  // The classifier is shared by experiments through its cache: its key is all it reads.
  if (s.kind == JobKind::kClassifier) return sections.classifier_key;
  const auto& e = c.extraction;
  std::string text = fmt::format("{}|{}|{}|{}|{}|{}||{}|{}|{}|{}|{}|{}|{}", kind_name(s.kind), c.experiment.task,
                                 role_name(s.role), s.refiner, s.train_size, s.seed, s.model, s.prior, s.defense,
                                 number(s.strength), s.queries, s.method, s.init);
  text += sections.data;
  text += fmt::format("|z{}|w{}|threads{}", c.model.z_dim, c.model.width, c.experiment.threads_per_rank);
  // Only bf16 changes what is computed (fp32 is every earlier version's arithmetic): fp32 jobs keep their hashes.
  if (c.experiment.precision != "fp32") text += "|precision " + c.experiment.precision;
  const auto feature_sections = [&] { return sections.features + fmt::format("|fid{}", e.fid_samples); };
  switch (s.kind) {
    case JobKind::kTrain:
      text += sections.train + fmt::format("|ranks_per_run{}", c.experiment.ranks_per_run);
      text += target_classes(c);
      if (s.role == Role::kTransfer) {
        text += fmt::format("|transfer{}:{}:{}", e.transfer_train_size, fmt::join(e.transfer_classes, ","),
                            e.transfer_iterations);
      }
      if (s.method.starts_with("accuracy")) text += fmt::format("|partial{}", e.partial_real);
      if (s.role == Role::kAttack) text += fmt::format("|steps{}", s.iterations);
      text += fmt::format("|seed{:016x}", s.training_seed);
      break;
    case JobKind::kQueries: text += sections.defenses + feature_sections(); break;
    case JobKind::kRefine:
      text += target_classes(c) + fmt::format("|partial{}|K{}|{}|drs{}", e.partial_real, e.mh_chain_length,
                                              e.calibration, number(e.drs_gamma_quantile));
      break;
    case JobKind::kEvaluate:
      text += feature_sections() + target_classes(c) +
              fmt::format("|transfer{}:{}", e.transfer_train_size, fmt::join(e.transfer_classes, ","));
      break;
    case JobKind::kClassifier: break;
  }
  return text;
}

// The seed of a training job's weights, batches and noise. Every job has its own, except the thief's GANs: one per
// (attack model, seed) whatever the budget, prior, defense or refiner, so that a sweep over queries or defenses
// varies only the data the thief trains on, not its starting weights.
std::uint64_t training_seed(const JobSpec& s, const std::string& name) {
  return derive_seed(s.seed, s.role == Role::kAttack ? "thief:" + s.model : "run:" + name);
}

// Generator steps: train.iterations, or for the thief's GANs extraction.attack_iterations (when > 0) and for the
// transfer runs extraction.transfer_iterations.
std::int64_t training_iterations(const Config& c, const JobSpec& s) {
  if (s.role == Role::kTransfer) return c.extraction.transfer_iterations;
  if (s.role == Role::kAttack && c.extraction.attack_iterations > 0) return c.extraction.attack_iterations;
  return c.train.iterations;
}

}  // namespace

std::string model_tag(const Config& config, const std::string& model) {
  return config.model.names.size() > 1 ? model : "";
}
std::string target_run_name(const Config& config, const std::string& target_model, std::uint64_t seed) {
  return with_model(fmt::format("target-s{}", seed), model_tag(config, target_model));
}
std::string target_evaluation_name(const Config& config, const std::string& target_model, std::uint64_t seed) {
  return with_model(fmt::format("eval-target-s{}", seed), model_tag(config, target_model));
}

Plan make_plan(const Config& config) {
  const auto& e = config.extraction;
  Plan plan;
  const SectionTexts sections(config);
  auto add = [&](std::string name, std::vector<int> depends_on, JobSpec spec) {
    runner::Job job{.id = static_cast<int>(plan.jobs.size()), .name = std::move(name),
                    .kind = std::string(kind_name(spec.kind)), .depends_on = std::move(depends_on)};
    job.collective = spec.kind == JobKind::kQueries || spec.kind == JobKind::kRefine || spec.kind == JobKind::kEvaluate;
    job.shared = spec.role == Role::kTarget || spec.kind == JobKind::kClassifier || spec.kind == JobKind::kQueries ||
                 spec.kind == JobKind::kRefine;
    if (spec.kind == JobKind::kTrain) {
      spec.training_seed = training_seed(spec, job.name);
      spec.iterations = training_iterations(config, spec);
    }
    job.inputs = job_inputs(config, sections, spec);
    plan.jobs.push_back(std::move(job));
    plan.specs.push_back(std::move(spec));
    return plan.jobs.back().id;
  };
  const auto& specs = plan.specs;
  const auto& jobs = plan.jobs;
  const int classifier = add("classifier", {}, {.kind = JobKind::kClassifier, .seed = config.features.classifier_seed});
  const auto budgets = fidelity_budgets(config);
  for (const auto& target_model : config.model.names) {
    const auto tag = model_tag(config, target_model);
    for (const auto seed : config.experiment.seeds) {
      const auto named = [&](const std::string& base) { return with_model(fmt::format("{}-s{}", base, seed), tag); };
      const int target = add(target_run_name(config, target_model, seed), {},
                             {.kind = JobKind::kTrain, .role = Role::kTarget, .train_size = e.target_train_size,
                              .seed = seed, .model = target_model});
      const int baseline = add(target_evaluation_name(config, target_model, seed), {target, classifier},
                               {.kind = JobKind::kEvaluate, .role = Role::kTarget, .seed = seed, .model = target_model,
                                .input = target_run_name(config, target_model, seed), .method = "target"});
      // One attack GAN per attack model on the first n answers of a query or refine job, and its evaluation.
      const auto attack = [&](int data, std::int64_t n, const std::string& what, const std::string& method) {
        std::vector<int> runs;
        const JobSpec d = specs[data];  // a copy: add() grows the plan
        const std::string data_name = jobs[data].name;
        for (const auto& attack_model : e.attack_models) {
          const int run = add(named(fmt::format("attack-{}-{}-q{}", attack_model, what, n)), {data},
                              {.kind = JobKind::kTrain, .role = Role::kAttack, .train_size = n, .seed = seed,
                               .model = attack_model, .prior = d.prior, .defense = d.defense, .strength = d.strength,
                               .queries = n, .input = data_name, .method = method});
          const std::string run_name = jobs[run].name;
          add("eval-" + run_name, {run, baseline},
              {.kind = JobKind::kEvaluate, .role = Role::kAttack, .seed = seed, .model = target_model,
               .prior = d.prior, .defense = d.defense, .strength = d.strength, .queries = n, .input = run_name,
               .method = method});
          runs.push_back(run);
        }
        return runs;
      };
      int largest_fidelity_run = -1;  // the transfer study's source
      for (const auto& prior : e.priors) {
        const int answers = add(named("queries-" + prior), {target, classifier},
                                {.kind = JobKind::kQueries, .seed = seed, .model = target_model, .prior = prior,
                                 .queries = budgets.back()});
        for (const auto n : budgets) {
          const auto runs = attack(answers, n, prior, "fidelity");
          if (largest_fidelity_run < 0 && n == budgets.back()) largest_fidelity_run = runs.front();
        }
      }
      for (const auto& variant : defense_variants(config)) {  // every defense against the first prior
        const auto& prior = e.priors.front();
        const int answers = add(named(fmt::format("queries-{}-{}", prior, variant.label())), {target, classifier},
                                {.kind = JobKind::kQueries, .seed = seed, .model = target_model, .prior = prior,
                                 .defense = variant.name, .strength = variant.strength, .queries = e.defense_queries});
        attack(answers, e.defense_queries, prior + "-" + variant.label(), "fidelity");
      }
      for (const auto& refiner : e.refiners) {
        for (const auto q : e.accuracy_queries) {
          const int refined = add(named(fmt::format("refined-{}-q{}", refiner, q)), {target},
                                  {.kind = JobKind::kRefine, .refiner = refiner, .seed = seed, .model = target_model,
                                   .prior = "normal", .queries = q});
          attack(refined, q, refiner, "accuracy-" + refiner);
        }
      }
      if (e.transfer) {
        const auto source = largest_fidelity_run;
        const auto source_model = specs[source].model, source_name = jobs[source].name;
        for (const bool finetune : {true, false}) {
          const auto method = std::string(finetune ? "transfer-finetune" : "transfer-scratch");
          const int run = add(named(fmt::format("{}-{}", method, source_model)),
                              finetune ? std::vector<int>{source} : std::vector<int>{},
                              {.kind = JobKind::kTrain, .role = Role::kTransfer, .train_size = e.transfer_train_size,
                               .seed = seed, .model = source_model, .init = finetune ? source_name : "",
                               .method = method});
          const std::string run_name = jobs[run].name;
          add("eval-" + run_name, {run, classifier},
              {.kind = JobKind::kEvaluate, .role = Role::kTransfer, .seed = seed, .model = target_model,
               .input = run_name, .method = method});
        }
      }
    }
  }
  return plan;
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

}  // namespace ganleaks::extraction
