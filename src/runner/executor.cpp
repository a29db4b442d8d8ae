#include "runner/executor.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "core/errors.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/seeding.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "metrics/fid.h"
#include "runner/attack_job.h"
#include "runner/extraction_job.h"
#include "runner/provenance.h"
#include "train/trainer.h"

namespace ganleaks::runner {
namespace {

// Sample quality of a trained victim against the real records of the reference split (never in a victim's
// training set), from 2000 samples. Images: FID on 8×8-pooled pixels, NaN when the split is too small for the
// 64 features. Records: the dimension-wise error of MEDGAN's paper, mean over features of |p_real − p_gen|
// (per-feature means; for binary records, Bernoulli success probabilities), stored as sample_quality.
struct SampleQuality {
  std::string measure;
  double value = std::numeric_limits<double>::quiet_NaN();
  std::int64_t real = 0, generated = 0;
};

SampleQuality sample_quality(const data::Pool& pool, models::Networks& model, const at::Tensor& real, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  model.train(false);
  auto stream = at::make_generator<at::CPUGeneratorImpl>(derive_seed(seed, "sample-quality"));
  auto samples = model.generator->forward(torch::randn({2000, model.generator->z_dim()}, stream));
  if (!pool.images()) {
    if (pool.binary()) samples = samples.ge(0.5).to(torch::kFloat32);  // MEDGAN's users round its output
    return {"dimension-wise error (mean |p_real - p_generated| over features)",
            (real.mean(0) - samples.mean(0)).abs().mean().item<double>(), real.size(0), samples.size(0)};
  }
  SampleQuality q{std::string(metrics::kPooledPixelExtractor)};
  const auto real_features = metrics::pooled_pixel_features(real);
  if (real_features.size(0) <= real_features.size(1)) return q;
  q.value = metrics::frechet_distance(metrics::gaussian_stats(metrics::pooled_pixel_features(samples)),
                                      metrics::gaussian_stats(real_features));
  q.real = real_features.size(0);
  q.generated = samples.size(0);
  return q;
}

void write_run_record(const Layout& layout, const Job& job, const Config& config,
                      const train::RunResult& result, std::span<const std::int64_t> rows, std::int64_t records, double seconds,
                      const SampleQuality& quality, const std::optional<DpSettings>& dp, const dist::Comm& world,
                      int ranks) {
  io::write_atomically(layout.run_record(job.name), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    const auto root = file.root();
    root.set_attr("job_hash", job.hash);
    root.set_attr("model", job.model);
    root.set_attr("role", job.role);
    root.set_attr("train_size", job.train_size);
    root.set_attr("seed", static_cast<std::int64_t>(job.seed));
    root.set_attr("iterations", result.iterations);
    root.set_attr("resumed_from", result.resumed_from);
    const auto level = privacy_level(config, job.privacy);
    root.set_attr("privacy", level.display());
    if (dp) {
      // SPEC §2: every DP run records what its guarantee rests on.
      root.set_attr("dp_epsilon", dp->epsilon);
      root.set_attr("dp_delta", dp->delta);
      root.set_attr("dp_noise_multiplier", dp->noise_multiplier);
      root.set_attr("dp_sample_rate", dp->sample_rate);
      root.set_attr("dp_steps", dp->steps);
      root.set_attr("dp_max_grad_norm", dp->max_grad_norm);
      root.set_attr("dp_rdp_order", dp->order);
      root.set_attr("dp_target_epsilon", level.target_epsilon > 0 ? level.target_epsilon : std::numeric_limits<double>::quiet_NaN());
      root.set_attr("dp_noise", config.privacy.secure_noise ? "secure (getrandom)" : "seeded");
      root.write("dp_batch_size", std::span<const float>(result.dp_batch_size));
      root.write("dp_clipped_fraction", std::span<const float>(result.dp_clipped_fraction));
    } else {
      root.set_attr("dp_epsilon", std::numeric_limits<double>::quiet_NaN());  // SPEC §5: NaN without DP
    }
    if (!job.input.empty()) {  // the thief's GAN: what it learnt from
      root.set_attr("input", job.input);
      root.set_attr("queries", job.queries);
    }
    if (!job.method.empty()) root.set_attr("method", job.method);
    if (!job.init.empty()) root.set_attr("init", job.init);
    root.set_attr("records", records);
    root.set_attr("wall_seconds", seconds);
    record_placement(root, placement(world.rank(), ranks));
    // Images: FID on pooled pixels (sample_fid, as before); records: the dimension-wise error.
    const bool fid = quality.measure == metrics::kPooledPixelExtractor;
    root.set_attr("sample_fid", fid ? quality.value : std::numeric_limits<double>::quiet_NaN());
    root.set_attr("sample_quality", quality.value);
    root.set_attr("sample_quality_measure", quality.measure);
    root.set_attr("sample_fid_extractor", metrics::kPooledPixelExtractor);
    root.set_attr("sample_fid_real", quality.real);
    root.set_attr("sample_fid_generated", quality.generated);
    root.write("loss_d", std::span<const float>(result.loss_d));
    root.write("loss_g", std::span<const float>(result.loss_g));
    root.write("train_index", rows);
  });
}

}  // namespace

Executor::Executor(Config config, Layout layout, const dist::Comm& world, dist::TensorComm& group,
                   std::shared_ptr<const data::Pool> pool)
    : config_(std::move(config)), layout_(std::move(layout)), world_(world), group_(group), pool_(std::move(pool)) {
  // Fixed per rank: ranks that share cores must not oversubscribe them, and the thread count must not vary
  // between runs that are compared bit for bit.
  at::set_num_threads(config_.experiment.threads_per_rank);
}

const data::SeedSplits& Executor::splits(std::uint64_t seed) {
  auto it = splits_.find(seed);
  if (it == splits_.end()) {
    it = splits_.emplace(seed, make_seed_splits(config_, *pool_, seed)).first;
  }
  return it->second;
}

const data::ExtractionSplits& Executor::extraction_splits(std::uint64_t seed) {
  auto it = extraction_splits_.find(seed);
  if (it == extraction_splits_.end()) {
    it = extraction_splits_.emplace(seed, make_extraction_splits(config_, *pool_, seed)).first;
  }
  return it->second;
}

void Executor::check_splits(std::uint64_t seed) {
  if (config_.experiment.task == "extraction") {
    extraction_splits(seed);
  } else {
    splits(seed);
  }
}

JobReport Executor::run(const Job& job, const std::function<void()>& between_steps) {
  JobReport report;
  report.job_id = job.id;
  report.rank = world_.rank();
  report.host = dist::host_name();
  const auto start = std::chrono::steady_clock::now();
  if (job.kind == JobKind::kAttack) {
    // A failure in a collective would leave the other ranks inside it: let it escape.
    run_attack_job(job, {.config = config_, .layout = layout_, .world = world_, .pool = *pool_, .splits = splits(job.seed)});
  } else if (job.collective()) {
    run_extraction_job(job, {.config = config_, .layout = layout_, .world = world_, .pool = *pool_,
                             .splits = extraction_splits(job.seed)});
  } else {
    try {
      if (job.kind == JobKind::kClassifier) {
        train_classifier_job(job, config_, layout_, world_.rank(), between_steps);
      } else {
        train(job, between_steps);
      }
    } catch (const Interrupted&) {
      report.interrupted = true;  // checkpointed: the next run resumes it
      log::info(fmt::format("job {} interrupted by a signal; checkpoint written", job.name));
    } catch (const std::exception& e) {
      if (group_.size() > 1) throw;  // likewise: the group's other ranks are inside its collectives
      report.ok = false;
      report.error = e.what();
      log::error(fmt::format("job {} failed: {}", job.name, e.what()));
    }
  }
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::pair<at::Tensor, std::vector<std::int64_t>> Executor::training_records(const Job& job) {
  const auto from_pool = [&](std::vector<std::int64_t> rows) {
    auto records = pool_->rows(rows);
    return std::pair{std::move(records), std::move(rows)};
  };
  if (job.role == "reference") return from_pool(splits(job.seed).reference);
  if (job.role == "victim") return from_pool(data::training_set(splits(job.seed), job.train_size));
  if (job.role == "target") return from_pool(extraction_splits(job.seed).target);
  if (job.role == "transfer") return from_pool(extraction_splits(job.seed).transfer);
  // The thief's GAN: the target's first n answers; accuracy extraction adds the partial real data.
  return {thief_training_set(job, {.config = config_, .layout = layout_, .world = world_, .pool = *pool_,
                                   .splits = extraction_splits(job.seed)}),
          {}};
}

void Executor::train(const Job& job, const std::function<void()>& between_steps) {
  const auto [records, rows] = training_records(job);
  auto train_config = config_.train;
  train_config.iterations = training_iterations(config_, job);
  log::info(fmt::format("train {}: {} records, {} iterations{}{}", job.name, records.size(0), train_config.iterations,
                        job.init.empty() ? "" : ", starting from " + job.init,
                        group_.size() > 1 ? fmt::format(", data parallel over {} ranks", group_.size()) : ""));
  const auto start = std::chrono::steady_clock::now();
  train::RunSpec spec{.model = config_.model.only(job.model), .train = train_config,
                         .seed = training_seed(job), .run_dir = layout_.run_dir(job.name)};
  if (!job.init.empty()) spec.init_from = layout_.run_dir(job.init);
  spec.interrupt = [] { return interrupt_requested(); };
  spec.group = group_.size() > 1 ? &group_ : nullptr;
  std::optional<DpSettings> dp;  // resolved once (σ may come from the accountant's search)
  if (const auto level = privacy_level(config_, job.privacy); level.dp()) {
    dp = dp_settings(config_, level, job.train_size);
    spec.dp = train::DpTraining{.max_grad_norm = dp->max_grad_norm, .noise_multiplier = dp->noise_multiplier,
                                .sample_rate = dp->sample_rate, .secure_noise = config_.privacy.secure_noise};
    log::info(fmt::format("train {}: DP-SGD σ = {:.4g}, q = {:.4g}, C = {}, {} steps → ε = {:.3g} at δ = {:g}", job.name,
                          dp->noise_multiplier, dp->sample_rate, dp->max_grad_norm, dp->steps, dp->epsilon, dp->delta));
  }
  const auto total = train::pretraining_iterations(spec) + train_config.iterations;
  const auto log_every = std::max<std::int64_t>(1, total / 4);
  auto result = train::train_model(spec, records, [&](std::int64_t it) {
    if (it % log_every == 0) log::info(fmt::format("train {}: iteration {}/{}", job.name, it, total));
    if (between_steps) between_steps();
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (group_.rank() != 0) return;  // the group's rank 0 records the run
  const auto quality = job.role == "victim"
                           ? sample_quality(*pool_, result.networks, pool_->rows(splits(job.seed).reference), spec.seed)
                           : SampleQuality{};
  write_run_record(layout_, job, config_, result, rows, records.size(0), seconds, quality, dp, world_, group_.size());
  log::info(fmt::format("train {}: done in {:.1f} s (final loss D {:.3f}, G {:.3f})", job.name, seconds,
               result.loss_d.back(), result.loss_g.back()));
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

data::ExtractionSplits make_extraction_splits(const Config& config, const data::Pool& pool, std::uint64_t seed) {
  const auto& e = config.extraction;
  return data::make_extraction_splits(pool.labels(),
                                      {.target_size = e.target_train_size, .target_classes = e.target_classes,
                                       .transfer_size = e.transfer ? e.transfer_train_size : 0,
                                       .transfer_classes = e.transfer_classes},
                                      seed);
}

std::filesystem::path job_output(const Layout& layout, const Config& config, const Job& job) {
  switch (job.kind) {
    case JobKind::kTrain: return layout.run_record(job.name);
    case JobKind::kAttack: return layout.attack_record(job.name);
    case JobKind::kClassifier: return classifier_record(layout.classifier_dir(classifier_cache_key(config)));
    case JobKind::kQueries: return layout.queries(job.name);
    case JobKind::kRefine: return layout.refined(job.name);
    case JobKind::kEvaluate: return layout.extraction_record(job.name);
  }
  throw std::logic_error("job_output: unknown job kind");
}

JobState job_state(const Layout& layout, const Config& config, const Job& job) {
  const auto file = job_output(layout, config, job);
  if (!std::filesystem::exists(file)) return JobState::kMissing;
  const auto record = io::H5File::open_read(file);
  const auto root = record.root();
  return root.has_attr("job_hash") && root.attr_string("job_hash") == job.hash ? JobState::kDone : JobState::kStale;
}

bool job_done(const Layout& layout, const Config& config, const Job& job) {
  return job_state(layout, config, job) == JobState::kDone;
}

}  // namespace ganleaks::runner
