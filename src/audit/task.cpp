#include "audit/task.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "audit/procedure.h"
#include "audit/report.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/seeding.h"
#include "data/pool.h"
#include "dist/placement.h"
#include "dist/tensor_comm.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "io/record.h"
#include "membership/attack_job.h"
#include "membership/attack_record.h"
#include "membership/plan.h"
#include "membership/task.h"
#include "train/run_job.h"
#include "train/unit_costs.h"

namespace ganleaks::audit {

Task::Task(Config config) : ConfiguredTask(std::move(config)), view_(membership_view(config_)), plan_(make_plan(config_)) {}
Task::~Task() = default;

std::vector<std::string> Task::folders() const {
  return {"runs", std::string(membership::kSignalsFolder), std::string(kAuditsFolder)};
}

std::filesystem::path Task::output(const runner::Layout& layout, const runner::Job& job) const {
  switch (plan_.specs[job.id].kind) {
    case JobKind::kTrain: return layout.run_record(job.name);
    case JobKind::kSignals: return layout.record(std::string(membership::kSignalsFolder), job.name);
    case JobKind::kAudit: return layout.record(std::string(kAuditsFolder), job.name);
  }
  return {};
}

std::string Task::describe(const runner::Job& job) const {
  const auto& spec = plan_.specs[job.id];
  if (spec.kind != JobKind::kTrain || !spec.dp) return "";
  return privacy::describe(*spec.dp);
}

runner::CostEstimate Task::estimate(const std::vector<runner::Job>& jobs) const {
  at::set_num_threads(config_.experiment.threads_per_rank);  // one rank's speed
  const auto& model = config_.model.names.front();
  train::ModelCosts costs(config_.model, config_.train, membership::sample_shape(config_.data));
  const auto& u = costs.of(model);
  double search_pair = -1;  // measured on first use
  runner::CostEstimate out;
  for (const auto& job : jobs) {
    const auto& spec = plan_.specs[job.id];
    double seconds = 0;  // audits: arithmetic on stored losses
    if (spec.kind == JobKind::kTrain) {
      seconds = static_cast<double>(config_.train.iterations) * (spec.dp ? membership::kDpStepCost : 1.0) * u.iteration;
    } else if (spec.kind == JobKind::kSignals) {
      const double canaries = spec.mode == Mode::kOneRun ? static_cast<double>(config_.audit.canaries) : 1.0;
      if (search_pair < 0) search_pair = membership::search_pair_seconds(membership::sample_shape(config_.data));
      seconds = membership::scoring_seconds(config_.attack, config_.model, spec.setting, canaries, u, search_pair);
    }
    out.rank_seconds += seconds;
    out.by_kind[job.kind] += seconds;
  }
  for (const auto& [unit, seconds] : costs.unit_seconds()) out.unit_seconds[unit] = seconds;
  return out;
}

Task::Records Task::load_records(const Config& config) {
  const auto dataset = data::Pool::load(config.data);
  const auto& a = config.audit;
  const auto count = canary_count(a);
  std::vector<data::Pool::Crafted> crafted;
  Records out;
  for (const auto seed : config.experiment.seeds) {
    auto rows = audit_rows(dataset.size(), a.train_size, count, seed);
    auto& records = out.seeds[seed];
    records.train = std::move(rows.train);
    if (a.canary == "pool") {
      records.canaries = std::move(rows.sources);
      continue;
    }
    for (std::int64_t i = 0; i < count; ++i) {
      records.canaries.push_back(dataset.size() + static_cast<std::int64_t>(crafted.size()));
      crafted.push_back({.kind = a.canary == "noise" ? data::Pool::Crafted::Kind::kNoise : data::Pool::Crafted::Kind::kInverted,
                         .source = rows.sources[static_cast<std::size_t>(i)],
                         .seed = derive_seed(seed, "audit-noise-canary", static_cast<std::uint64_t>(i))});
    }
  }
  out.pool = std::make_shared<const data::Pool>(dataset.with_crafted(crafted));
  return out;
}

void Task::start(const runner::RunContext& context) {
  at::set_num_threads(config_.experiment.threads_per_rank);  // as membership inference's (membership/task.cpp)
  records_ = load_records(config_);
  group_ = std::make_unique<dist::TensorComm>(context.group);
}

std::vector<std::int64_t> Task::training_rows(const JobSpec& spec) const {
  const auto& records = records_.seeds.at(spec.seed);
  auto rows = records.train;
  if (!config_.audit.train_on_canaries) return rows;  // a null audit
  if (spec.mode == Mode::kMultiRun) {
    if (spec.with_canary) rows.push_back(records.canaries.front());
    return rows;
  }
  const auto included = one_run_inclusion(config_.audit.canaries, spec.seed);
  for (std::size_t i = 0; i < included.size(); ++i) {
    if (included[i]) rows.push_back(records.canaries[i]);
  }
  return rows;
}

void Task::run(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) {
  switch (plan_.specs[job.id].kind) {
    case JobKind::kTrain: return train(job, context, between_steps);
    case JobKind::kSignals: return signals(job, context);
    case JobKind::kAudit: return audit(job, context.layout);
  }
}

void Task::train(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) {
  const auto& spec = plan_.specs[job.id];
  auto rows = training_rows(spec);
  train::TrainingJob run{.name = job.name, .hash = job.hash, .role = "audited",
                         .train_size = static_cast<std::int64_t>(rows.size()), .seed = spec.seed,
                         .spec = {.model = config_.model.only(config_.model.names.front()), .train = config_.train,
                                  .group = group_->size() > 1 ? group_.get() : nullptr, .seed = spec.training_seed,
                                  .device = at::Device(context.device), .bf16 = config_.experiment.precision == "bf16",
                                  .settings = job.hash, .run_dir = context.layout.run_dir(job.name),
                                  .interrupt = [] { return interrupt_requested(); }},
                         .records = records_.pool->rows(rows), .rows = std::move(rows), .world_rank = context.world.rank(),
                         .level = spec.level, .dp = spec.dp, .secure_noise = config_.privacy.secure_noise};
  if (spec.dp) run.spec.dp = train::dp_training(*spec.dp, config_.privacy);
  const auto describe = [&](const io::H5Group& record) {
    record.set_attr("audit_mode", std::string(mode_name(spec.mode)));
    if (spec.mode == Mode::kMultiRun) record.set_attr("with_canary", std::int64_t{spec.with_canary});
    record.set_attr("note", "rows at or beyond the dataset's size are crafted canaries (results.h5: canaries/)");
  };
  train::run_training_job(run, between_steps, {}, describe);
}

void Task::signals(const runner::Job& job, const runner::RunContext& context) {
  const auto& spec = plan_.specs[job.id];
  const auto& records = records_.seeds.at(spec.seed);
  const membership::JobSpec what{.kind = membership::JobKind::kSignals, .model = config_.model.names.front(),
                                 .setting = spec.setting, .train_size = config_.audit.train_size, .seed = spec.seed};
  const auto scoring = runner::described(job, what);
  static const data::SeedSplits kNoSplits;  // the signals read the canaries' rows only
  const auto& model_run = plan_.jobs[spec.model].name;
  const membership::AttackInputs inputs{.config = view_, .layout = context.layout, .world = context.world,
                                        .device = at::Device(context.device), .pool = *records_.pool, .splits = kNoSplits,
                                        .victim_run = model_run};
  auto rows = spec.mode == Mode::kMultiRun ? std::vector<std::int64_t>{records.canaries.front()} : records.canaries;
  const auto count = static_cast<std::int64_t>(rows.size());
  membership::run_signal_job(scoring, inputs, std::move(rows), count, "fbb:" + model_run);
}

void Task::audit(const runner::Job& job, const runner::Layout& layout) const {
  const auto start = std::chrono::steady_clock::now();
  const auto& spec = plan_.specs[job.id];
  const auto& a = config_.audit;
  const auto delta = spec.dp ? spec.dp->delta : privacy::delta_for(config_.privacy, a.train_size);
  std::vector<std::vector<double>> losses;
  for (const int id : spec.signals) {
    losses.push_back(membership::read_signal_record(layout.record(std::string(membership::kSignalsFolder),
                                                                  plan_.jobs[id].name)).loss);
  }
  io::commit_record(layout.record(std::string(kAuditsFolder), job.name), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    const auto root = file.root();
    root.set_attr("job_hash", job.hash);
    root.set_attr("mode", std::string(mode_name(spec.mode)));
    root.set_attr("setting", spec.setting);
    root.set_attr("model", config_.model.names.front());
    root.set_attr("train_size", a.train_size);
    root.set_attr("seed", static_cast<std::int64_t>(spec.seed));
    root.set_attr("privacy", spec.level.display());
    root.set_attr("privacy_label", spec.level.label);
    root.set_attr("epsilon", spec.dp ? spec.dp->epsilon : std::numeric_limits<double>::infinity());
    root.set_attr("delta", delta);
    root.set_attr("confidence", a.confidence);
    root.set_attr("canary", a.canary);
    root.set_attr("trained_on_canaries", std::int64_t{a.train_on_canaries});
    root.set_attr("loss_direction", "lower = more member-like (membership/attack_record.h)");
    if (spec.mode == Mode::kMultiRun) {
      std::vector<double> in, out;
      for (std::size_t i = 0; i < losses.size(); ++i) (i < losses.size() / 2 ? in : out).push_back(losses[i].at(0));
      const auto o = multi_run_outcome(in, out, a.threshold_runs, delta, a.confidence);
      root.write("loss_with_canary", std::span<const double>(in));
      root.write("loss_without_canary", std::span<const double>(out));
      root.set_attr("threshold", o.threshold);
      root.set_attr("guess_in_when", o.in_above ? "loss > threshold" : "loss < threshold");
      root.set_attr("threshold_runs", o.threshold_runs);
      root.set_attr("trials", o.trials);
      root.set_attr("false_positives", o.false_positives);
      root.set_attr("false_negatives", o.false_negatives);
      root.set_attr("epsilon_lb", o.epsilon_lb);
      root.set_attr("gdp_mu_lb", o.gdp_mu);
      root.set_attr("gdp_epsilon_lb", o.gdp_epsilon);
      root.set_attr("ceiling", o.ceiling);
    } else {
      const auto included = one_run_inclusion(a.canaries, spec.seed);
      const auto o = one_run_outcome(losses.at(0), included, a.guesses_in, a.guesses_out, delta, a.confidence);
      root.write("loss", std::span<const double>(losses[0]));
      root.write("included", std::span<const std::uint8_t>(included));
      std::vector<std::int64_t> guess(o.guess.begin(), o.guess.end());
      root.write("guess", std::span<const std::int64_t>(guess));
      root.set_attr("canaries", o.canaries);
      root.set_attr("guesses", o.guesses);
      root.set_attr("correct", o.correct);
      root.set_attr("epsilon_lb", o.epsilon_lb);
      root.set_attr("ceiling", o.ceiling);
    }
    root.set_attr("wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

void Task::assemble(const runner::Layout& layout, const io::H5File& results) const {
  const auto root = results.root();
  const auto loaded = records_.pool ? records_ : load_records(config_);
  for (const auto& [seed, records] : loaded.seeds) {
    const auto g = root.create_group(fmt::format("canaries/seed{}", seed));
    g.write("train_rows", std::span<const std::int64_t>(records.train));
    g.write("canary_rows", std::span<const std::int64_t>(records.canaries));
    const auto canaries = loaded.pool->rows(records.canaries).contiguous();
    const std::vector<std::int64_t> dims(canaries.sizes().begin(), canaries.sizes().end());
    g.write_array("records", std::span<const float>(canaries.data_ptr<float>(), static_cast<std::size_t>(canaries.numel())), dims);
    g.set_attr("canary", config_.audit.canary);
    g.set_attr("note", "canary_rows at or beyond the dataset's size are crafted (audit.canary); records: the canaries "
                       "as the models take them");
  }
  for (const auto& job : plan_.jobs) {
    const auto kind = plan_.specs[job.id].kind;
    if (kind == JobKind::kSignals) continue;  // every loss is in the audits' groups
    const auto in = io::H5File::open_read(output(layout, job));
    io::copy_group(in, "/", results, (kind == JobKind::kTrain ? "runs/" : "audits/") + job.name);
  }
}

std::string Task::report(const runner::Layout& layout) const {
  const auto rows = read_audit_rows(layout.results());
  const auto table = audit_table_markdown(rows);
  const auto text = fmt::format(
      "# ganleaks report: {}\n\nPrivacy audit of model {} on {} at n = {}: lower bounds on ε that hold with the stated "
      "confidence (docs/privacy.md, \"Auditing\"), beside the accountant's ε. Ceiling: the bound had every guess been "
      "right, the most this audit could show.{}\n\n{}\n## Resolved config\n\n```toml\n{}```\n\n"
      "Provenance: `provenance.toml`; per-rank logs: `logs/`; every canary score: `results.h5` (audits/).\n",
      config_.experiment.name, config_.model.names.front(), config_.data.dataset, config_.audit.train_size,
      config_.audit.train_on_canaries ? "" : " **A null audit** (audit.train_on_canaries = false): nothing was "
                                             "trained on a canary, so every ε_LB should be 0.",
      table, resolved_config());
  io::write_file(layout.report_md(), text);
  io::write_file(layout.report_csv(), audit_rows_csv(rows));
  return table;
}

}  // namespace ganleaks::audit
