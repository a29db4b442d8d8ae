#include "membership/task.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attacks/lpips.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/seeding.h"
#include "data/pool.h"
#include "dist/device.h"
#include "dist/tensor_comm.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "membership/attack_job.h"
#include "membership/attack_record.h"
#include "membership/perceptual_job.h"
#include "membership/report.h"
#include "membership/shadow.h"
#include "membership/shadow_attack.h"
#include "metrics/fid.h"
#include "runner/folder.h"
#include "train/run_job.h"

namespace ganleaks::membership {
namespace {

// Sample quality of a trained victim against the real records of the reference split (never in a victim's
// training set), from 2000 samples. Images: FID on 8×8-pooled pixels, NaN when the split is too small for the 64
// features. Records: the dimension-wise error of MEDGAN's paper, mean over features of |p_real − p_gen| (per-feature
// means; for binary records, Bernoulli success probabilities).
train::SampleQuality sample_quality(const data::Pool& pool, models::Networks& model, const at::Tensor& real,
                                    std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  model.train(false);
  auto stream = at::make_generator<at::CPUGeneratorImpl>(derive_seed(seed, "sample-quality"));
  const auto device = model.generator->device();
  auto samples = model.generator->forward(torch::randn({2000, model.generator->z_dim()}, stream).to(device));
  if (!pool.images()) {
    if (pool.binary()) samples = samples.ge(0.5).to(torch::kFloat32);  // MEDGAN's users round its output
    return {"dimension-wise error (mean |p_real - p_generated| over features)",
            dist::host_double((real.to(device).mean(0) - samples.mean(0)).abs().mean()), real.size(0), samples.size(0)};
  }
  train::SampleQuality q{std::string(metrics::kPooledPixelExtractor)};
  const auto real_features = metrics::pooled_pixel_features(real.to(device));
  if (real_features.size(0) <= real_features.size(1)) return q;
  q.value = metrics::frechet_distance(metrics::gaussian_stats(metrics::pooled_pixel_features(samples)),
                                      metrics::gaussian_stats(real_features));
  q.real = real_features.size(0);
  q.generated = samples.size(0);
  return q;
}

}  // namespace

Task::Task(Config config) : ConfiguredTask(std::move(config)), arms_(arms(config_)), plan_(make_plan(arms_)) {}

std::string Task::resolved_config() const { return to_toml(config_) + variants_toml(config_.variants); }
Task::~Task() = default;

std::vector<std::string> Task::folders() const {
  return {"runs", std::string(kAttacksFolder), std::string(kSignalsFolder)};
}

std::filesystem::path Task::output(const runner::Layout& layout, const runner::Job& job) const {
  switch (plan_.specs[job.id].kind) {
    case JobKind::kTrain: return layout.run_record(job.name);
    case JobKind::kAttack:
    case JobKind::kShadowAttack: return layout.record(std::string(kAttacksFolder), job.name);
    case JobKind::kPerceptual: return perceptual_classifier_record(layout, config_);
    case JobKind::kSignals: return layout.record(std::string(kSignalsFolder), job.name);
  }
  return {};
}

std::string Task::describe(const runner::Job& job) const {
  const auto& spec = plan_.specs[job.id];
  if (spec.kind != JobKind::kTrain || !spec.dp) return "";
  return privacy::describe(*spec.dp);
}

void Task::start(const runner::RunContext& context) {
  // Fixed per rank: ranks that share cores must not oversubscribe them, and the thread count must not vary between
  // runs that are compared bit for bit.
  at::set_num_threads(config_.experiment.threads_per_rank);
  pool_ = std::make_shared<data::Pool>(data::Pool::load(config_.data));
  // A user-supplied LPIPS model is checked (loaded and probed) before any work starts.
  for (const auto& [label, arm] : arms_) {
    if (arm.attack.lambda_lpips > 0 && arm.attack.perceptual == "lpips" && context.world.is_root()) {
      const auto channels = pool_->rows(std::vector<std::int64_t>{0}).size(1);  // images: (N, C, H, W)
      attacks::Lpips(arm.attack.lpips_model, static_cast<int>(channels), arm.data.image_size, at::Device(context.device));
    }
  }
  for (const auto seed : config_.experiment.seeds) splits(seed);  // impossible sizes: a clean error on every rank
  group_ = std::make_unique<dist::TensorComm>(context.group);
}

const data::SeedSplits& Task::splits(std::uint64_t seed) {
  auto it = splits_.find(seed);
  if (it == splits_.end()) it = splits_.emplace(seed, make_seed_splits(config_, *pool_, seed)).first;
  return it->second;
}

void Task::run(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) {
  const auto& spec = plan_.specs[job.id];
  if (spec.kind == JobKind::kTrain) return train(job, context, between_steps);
  if (spec.kind == JobKind::kPerceptual) {
    return train_perceptual_classifier_job(runner::described(job, spec), config_, context.layout, context.world.rank(),
                                           at::Device(context.device), between_steps);
  }
  if (spec.kind == JobKind::kShadowAttack) {
    std::vector<std::string> signal_jobs;
    for (const int id : spec.signals) signal_jobs.push_back(plan_.jobs[id].name);
    return run_shadow_attack_job(runner::described(job, spec),
                                 {.config = config_of(spec), .layout = context.layout, .splits = splits(spec.seed),
                                  .signal_jobs = std::move(signal_jobs),
                                  .where = dist::placement(context.world.rank(), 1, context.device)});
  }
  const AttackInputs inputs{.config = config_of(spec), .layout = context.layout, .world = context.world,
                            .device = at::Device(context.device), .pool = *pool_, .splits = splits(spec.seed),
                            .victim_run = plan_.jobs[spec.victim].name,
                            .reference_run = spec.reference >= 0 ? plan_.jobs[spec.reference].name : ""};
  if (spec.kind == JobKind::kSignals) {
    return run_signal_job(runner::described(job, spec), inputs, plan_.specs[spec.victim].role == Role::kVictim);
  }
  run_attack_job(runner::described(job, spec), inputs);
}

void Task::train(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) {
  const auto& spec = plan_.specs[job.id];
  const auto& config = config_of(spec);
  const auto& s = splits(spec.seed);
  std::vector<std::int64_t> rows;
  std::string role;
  switch (spec.role) {
    case Role::kVictim: rows = data::training_set(s, spec.train_size), role = "victim"; break;
    case Role::kReference: rows = s.reference, role = "reference"; break;
    case Role::kShadow:
      rows = shadow_training_rows(config, s, spec.train_size, spec.seed, spec.shadow), role = "shadow";
      break;
  }
  train::TrainingJob run{.name = job.name, .hash = job.hash, .role = role,
                         .train_size = spec.train_size, .seed = spec.seed,
                         .spec = {.model = config.model.only(spec.model), .train = config.train,
                                  .group = group_->size() > 1 ? group_.get() : nullptr, .seed = spec.training_seed,
                                  .device = at::Device(context.device), .bf16 = config_.experiment.precision == "bf16",
                                  .settings = job.hash,
                                  .run_dir = context.layout.run_dir(job.name),
                                  .interrupt = [] { return interrupt_requested(); }},
                         .records = pool_->rows(rows), .rows = std::move(rows), .world_rank = context.world.rank(),
                         .level = spec.level, .dp = spec.dp, .secure_noise = config_.privacy.secure_noise};
  if (spec.dp) run.spec.dp = train::dp_training(*spec.dp, config_.privacy);
  std::function<train::SampleQuality(models::Networks&)> quality;
  if (spec.role == Role::kVictim) {
    quality = [&](models::Networks& model) { return sample_quality(*pool_, model, pool_->rows(s.reference), spec.training_seed); };
  }
  // The variant that named the job, for the report's rows (a job shared by variants has the first one's).
  const auto describe = [&](const io::H5Group& record) {
    if (!spec.variant.empty()) record.set_attr("variant", spec.variant);
  };
  train::run_training_job(run, between_steps, quality, describe);
}

void Task::assemble(const runner::Layout& layout, const io::H5File& results) const {
  const auto root = results.root();
  const auto pool = pool_ ? pool_ : std::make_shared<const data::Pool>(data::Pool::load(config_.data));
  for (const auto seed : config_.experiment.seeds) {
    const auto g = root.create_group(fmt::format("splits/seed{}", seed));
    const auto s = make_seed_splits(config_, *pool, seed);
    g.write("reference", std::span<const std::int64_t>(s.reference));
    g.write("holdout", std::span<const std::int64_t>(s.holdout));
    g.write("train_pool", std::span<const std::int64_t>(s.train_pool));
    g.set_attr("note", "victim training set of size n = first n of train_pool");
  }
  for (const auto& job : plan_.jobs) {
    const auto kind = plan_.specs[job.id].kind;
    if (kind == JobKind::kSignals) continue;  // in the shadow attacks' groups, as matrices over (query, shadow)
    const auto in = io::H5File::open_read(output(layout, job));
    switch (kind) {
      case JobKind::kAttack:
      case JobKind::kShadowAttack:
        for (const auto& group : in.root().children()) io::copy_group(in, group, results, "attacks/" + group);
        break;
      case JobKind::kTrain: io::copy_group(in, "/", results, "runs/" + job.name); break;
      case JobKind::kPerceptual: io::copy_group(in, "/", results, "perceptual_classifier"); break;
      case JobKind::kSignals: break;
    }
  }
}

data::SeedSplits make_seed_splits(const Config& config, const data::Pool& pool, std::uint64_t seed) {
  const data::SplitSizes sizes{.pool = pool.size(), .reference = config.data.reference_size,
                               .holdout = holdout_size(config), .max_train = config.sweep.train_sizes.back()};
  if (config.data.member_selection == "class") {
    if (pool.labels().empty()) {
      throw ConfigError("data.member_selection = \"class\" needs labels, and data.path = \"" + config.data.path +
                        "\" has none (data/tabular.h: an HDF5 \"labels\" dataset or a CSV \"label\" column)");
    }
    return data::make_splits(sizes, seed, {.labels = pool.labels(), .classes = config.data.member_classes});
  }
  return data::make_splits(sizes, seed);
}

std::string Task::report(const runner::Layout& layout) const {
  const auto rows = read_attack_rows(layout.results());
  const auto auc = auc_table(rows, TableStyle::kMarkdown);
  auto victims = victim_table_markdown(layout.results(), rows);
  if (!victims.empty()) {
    victims = "## Victims: leak and utility\n\nOne row per victim. DP-SGD on the discriminator (docs/privacy.md): ε at δ "
              "from the RDP accountant, σ noise multiplier, q sample rate. Sample quality against the reference split "
              "(lower is better): FID on 8×8-pooled pixels for images (not Inception FID), the dimension-wise error for "
              "records. AUC of every attack (calibrated where run).\n\n" + victims + "\n";
  }
  const auto spread = config_.experiment.seeds.size() == 1
                          ? std::string("[95 % bootstrap interval over queries]")
                          : fmt::format("mean ± standard deviation over {} seeds", config_.experiment.seeds.size());
  const auto text = fmt::format(
      "# ganleaks report: {}\n\nMembership-inference AUC (0.5 = no leak, 1 = every member identified), "
      "model {} on {}, {}.\n\n{}\n![AUC vs training-set size](plots/auc_vs_size.png)\n\n"
      "{}## TPR at low FPR\n\n{}\nROC curves: `plots/roc_n<size>.png`.\n\n## Resolved config\n\n```toml\n{}```\n\n"
      "Provenance: `provenance.toml`; per-rank logs: `logs/`; all scores: `results.h5`; LaTeX table: `report.tex`.\n",
      config_.experiment.name, fmt::join(config_.model.names, ", "), config_.data.dataset, spread, auc, victims,
      tpr_tables_markdown(rows), resolved_config());
  io::write_file(layout.report_md(), text);
  io::write_file(layout.report_csv(), attack_rows_csv(rows));
  io::write_file(layout.report_tex(), auc_table(rows, TableStyle::kLatex));
  if (const auto problem = write_plots(rows, layout.plots()); !problem.empty()) {
    log::warn(fmt::format("plots not drawn: {}; tables and data are complete", problem));
  }
  return auc;
}

}  // namespace ganleaks::membership
