#include "audit/plan.h"

#include <fmt/format.h>

#include <numeric>
#include <stdexcept>

#include "core/errors.h"
#include "core/seeding.h"
#include "membership/plan.h"

namespace ganleaks::audit {
namespace {

std::string_view kind_name(JobKind kind) {
  switch (kind) {
    case JobKind::kTrain: return "train";
    case JobKind::kSignals: return "signals";
    case JobKind::kAudit: return "audit";
  }
  return "";
}

// Everything a job's output depends on besides its dependencies' hashes (runner/plan.h adds those).
std::string job_inputs(const Config& c, const JobSpec& spec) {
  auto text = fmt::format("{}|{}|{}|{}|{}|n{}|{}", kind_name(spec.kind), c.experiment.task, mode_name(spec.mode),
                          spec.seed, spec.level.label, c.audit.train_size, c.model.names.front());
  text += section_toml(c, "data");
  text += fmt::format("|z{}|w{}|threads{}|precision {}", c.model.z_dim, c.model.width, c.experiment.threads_per_rank,
                      c.experiment.precision);
  text += diffusion_hash_text(c.model, c.model.names.front());
  text += fmt::format("|canary {}|trained on {}", c.audit.canary, c.audit.train_on_canaries);
  switch (spec.kind) {
    case JobKind::kTrain:
      text += section_toml(c, "train") + fmt::format("|ranks_per_run{}", c.experiment.ranks_per_run);
      if (spec.level.dp()) text += section_toml(c, "privacy");
      text += fmt::format("|with canary {}|records {}|seed{:016x}", spec.with_canary, spec.trained_records,
                          spec.training_seed);
      if (spec.mode == Mode::kOneRun) text += fmt::format("|m{}", c.audit.canaries);
      break;
    case JobKind::kSignals:
      text += membership::without_later_attack_defaults(section_toml(c, "attack")) + "|" + spec.setting;
      if (spec.mode == Mode::kOneRun) text += fmt::format("|m{}", c.audit.canaries);
      break;
    case JobKind::kAudit:  // δ from [privacy]; of [audit], what the mode reads
      text += section_toml(c, "privacy") + "|" + spec.setting + fmt::format("|confidence {}", c.audit.confidence);
      text += spec.mode == Mode::kMultiRun
                  ? fmt::format("|T{} threshold {}", c.audit.runs, c.audit.threshold_runs)
                  : fmt::format("|m{} guesses {} {}", c.audit.canaries, c.audit.guesses_in, c.audit.guesses_out);
      break;
  }
  return text;
}

}  // namespace

std::string_view mode_name(Mode mode) { return mode == Mode::kMultiRun ? "multi-run" : "one-run"; }

std::int64_t canary_count(const AuditConfig& audit) { return std::max<std::int64_t>(audit.runs > 0 ? 1 : 0, audit.canaries); }

AuditRows audit_rows(std::int64_t pool_size, std::int64_t train_size, std::int64_t sources, std::uint64_t seed) {
  if (train_size + sources > pool_size) {
    throw ConfigError(fmt::format("audit.train_size = {} plus {} canary records is more than the pool's {} records",
                                  train_size, sources, pool_size));
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(pool_size));
  std::iota(order.begin(), order.end(), 0);
  Rng(derive_seed(seed, "audit-rows")).shuffle(std::span(order));
  return {{order.begin(), order.begin() + train_size}, {order.begin() + train_size, order.begin() + train_size + sources}};
}

std::vector<std::uint8_t> one_run_inclusion(std::int64_t canaries, std::uint64_t seed) {
  Rng coin(derive_seed(seed, "audit-one-run-inclusion"));
  std::vector<std::uint8_t> included(static_cast<std::size_t>(canaries));
  for (auto& in : included) in = static_cast<std::uint8_t>(coin.uniform(2));
  return included;
}

Plan make_plan(const Config& config) {
  Plan plan;
  const auto& a = config.audit;
  const auto n = a.train_size;
  const auto steps = config.train.iterations * config.train.critic_steps;  // every discriminator update is a DP step
  const auto dp_for = [&](const privacy::PrivacyLevel& level, std::int64_t records) -> std::optional<privacy::DpSettings> {
    if (!level.dp()) return std::nullopt;
    try {
      return privacy::dp_settings(config.privacy, level, steps, config.train.batch_size, records);
    } catch (const std::invalid_argument& e) {  // a target ε no σ in the accountant's domain reaches
      throw ConfigError(fmt::format("{}: privacy level {} for n = {} ({} steps): {}", config.source, level.display(),
                                    records, steps, e.what()));
    }
  };
  const auto add = [&](runner::Job job, JobSpec spec) {
    if (spec.kind == JobKind::kTrain) spec.training_seed = derive_seed(spec.seed, "run:" + job.name);
    job.inputs = job_inputs(config, spec);
    if (spec.kind == JobKind::kSignals) job.inputs += "|scores " + plan.jobs[spec.model].inputs;
    job.id = static_cast<int>(plan.jobs.size());
    job.kind = std::string(kind_name(spec.kind));
    job.collective = spec.kind == JobKind::kSignals;  // queries and samples sharded over every rank
    plan.jobs.push_back(std::move(job));
    plan.specs.push_back(std::move(spec));
    return plan.jobs.back().id;
  };
  // The signal job of every setting for the training job `model`.
  const auto score = [&](int model, const JobSpec& trained) {
    std::vector<int> ids;
    for (const auto& setting : config.attack.settings) {
      ids.push_back(add({.name = fmt::format("signals-{}-{}", setting, plan.jobs[model].name), .depends_on = {model}},
                        {.kind = JobKind::kSignals, .mode = trained.mode, .seed = trained.seed, .level = trained.level,
                         .dp = trained.dp, .setting = setting, .model = model}));
    }
    return ids;
  };
  for (const auto seed : config.experiment.seeds) {
    for (const auto& level : privacy::privacy_levels(config.privacy)) {
      const auto suffix = [&](const std::string& name) { return membership::with_privacy(name, level.label); };
      if (a.runs > 0) {
        const auto dp = dp_for(level, n);  // the guarantee for neighbours of the n records (Poisson sampling at q)
        std::vector<std::vector<int>> in(config.attack.settings.size()), out(in.size());
        for (const bool with_canary : {true, false}) {
          for (int t = 0; t < a.runs; ++t) {
            JobSpec spec{.kind = JobKind::kTrain, .mode = Mode::kMultiRun, .seed = seed, .level = level, .dp = dp,
                         .trained_records = n + (with_canary && a.train_on_canaries ? 1 : 0),
                         .with_canary = with_canary, .run = t};
            const auto name = suffix(fmt::format("{}-canary-r{}-n{}-s{}", with_canary ? "with" : "without", t, n, seed));
            const auto trained = add({.name = name}, spec);
            const auto ids = score(trained, spec);
            for (std::size_t s = 0; s < ids.size(); ++s) (with_canary ? in : out)[s].push_back(ids[s]);
          }
        }
        for (std::size_t s = 0; s < in.size(); ++s) {
          const auto& setting = config.attack.settings[s];
          JobSpec spec{.kind = JobKind::kAudit, .mode = Mode::kMultiRun, .seed = seed, .level = level, .dp = dp,
                       .setting = setting, .signals = in[s]};
          spec.signals.insert(spec.signals.end(), out[s].begin(), out[s].end());
          runner::Job audit{.name = suffix(fmt::format("audit-multi-{}-n{}-s{}", setting, n, seed)),
                            .depends_on = spec.signals};
          add(std::move(audit), std::move(spec));
        }
      }
      if (a.canaries > 0) {
        const auto included = one_run_inclusion(a.canaries, seed);
        const auto trained_canaries = a.train_on_canaries ? std::accumulate(included.begin(), included.end(), std::int64_t{0}) : 0;
        JobSpec spec{.kind = JobKind::kTrain, .mode = Mode::kOneRun, .seed = seed, .level = level,
                     .dp = dp_for(level, n + trained_canaries), .trained_records = n + trained_canaries};
        const auto trained = add({.name = suffix(fmt::format("canaries{}-n{}-s{}", a.canaries, n, seed))}, spec);
        const auto ids = score(trained, spec);
        for (std::size_t s = 0; s < ids.size(); ++s) {
          const auto& setting = config.attack.settings[s];
          add({.name = suffix(fmt::format("audit-one-run-{}-n{}-s{}", setting, n, seed)), .depends_on = {ids[s]}},
              {.kind = JobKind::kAudit, .mode = Mode::kOneRun, .seed = seed, .level = level, .dp = spec.dp,
               .setting = setting, .signals = {ids[s]}});
        }
      }
    }
  }
  return plan;
}

}  // namespace ganleaks::audit
