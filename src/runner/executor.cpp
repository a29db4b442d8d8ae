#include "runner/executor.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "core/log.h"
#include "core/seeding.h"
#include "data/images.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "runner/attack_job.h"
#include "train/gan_trainer.h"

namespace ganleaks::runner {
namespace {

void write_run_record(const Layout& layout, const Job& job, const Config& config,
                      const train::GanRunResult& result, std::span<const std::int64_t> rows, double seconds,
                      const dist::Comm& world) {
  io::write_atomically(layout.run_record(job.name), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    const auto root = file.root();
    root.set_attr("model", config.model.name);
    root.set_attr("role", job.role);
    root.set_attr("train_size", job.train_size);
    root.set_attr("seed", static_cast<std::int64_t>(job.seed));
    root.set_attr("iterations", result.iterations);
    root.set_attr("resumed_from", result.resumed_from);
    root.set_attr("dp_epsilon", std::numeric_limits<double>::quiet_NaN());
    root.set_attr("wall_seconds", seconds);
    root.set_attr("rank", static_cast<std::int64_t>(world.rank()));
    root.set_attr("host", dist::host_name());
    root.write("loss_d", std::span<const float>(result.loss_d));
    root.write("loss_g", std::span<const float>(result.loss_g));
    root.write("train_index", rows);
  });
}

}  // namespace

Executor::Executor(Config config, Layout layout, const dist::Comm& world, std::shared_ptr<const data::ImageSet> pool)
    : config_(std::move(config)), layout_(std::move(layout)), world_(world), pool_(std::move(pool)) {
  // Fixed per rank: ranks that share cores must not oversubscribe them, and the thread count must not vary
  // between runs that are compared bit for bit.
  at::set_num_threads(config_.experiment.threads_per_rank);
}

const data::SeedSplits& Executor::splits(std::uint64_t seed) {
  auto it = splits_.find(seed);
  if (it == splits_.end()) {
    const data::SplitSizes sizes{.pool = pool_->count, .reference = config_.data.reference_size,
                                 .holdout = holdout_size(config_), .max_train = config_.sweep.train_sizes.back()};
    it = splits_.emplace(seed, data::make_splits(sizes, seed)).first;
  }
  return it->second;
}

JobReport Executor::run(const Job& job, const std::function<void()>& between_steps) {
  JobReport report;
  report.job_id = job.id;
  report.rank = world_.rank();
  report.host = dist::host_name();
  const auto start = std::chrono::steady_clock::now();
  if (job.collective()) {
    attack(job);  // a failure here would leave the other ranks inside a collective: let it escape
  } else {
    try {
      train(job, between_steps);
    } catch (const std::exception& e) {
      report.ok = false;
      report.error = e.what();
      log::error(fmt::format("job {} failed: {}", job.name, e.what()));
    }
  }
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

void Executor::train(const Job& job, const std::function<void()>& between_steps) {
  const auto& s = splits(job.seed);
  const auto rows = job.role == "reference" ? s.reference : data::training_set(s, job.train_size);
  log::info(fmt::format("train {}: {} records, {} iterations", job.name, rows.size(), config_.train.iterations));
  const auto start = std::chrono::steady_clock::now();
  const train::GanRunSpec spec{.model = config_.model, .train = config_.train,
                               .seed = derive_seed(job.seed, "run:" + job.name), .run_dir = layout_.run_dir(job.name)};
  const auto images = data::images_to_tensor(*pool_, rows, config_.data.image_size);
  const auto log_every = std::max<std::int64_t>(1, config_.train.iterations / 4);
  const auto result = train::train_gan(spec, images, [&](std::int64_t it) {
    if (it % log_every == 0) log::info(fmt::format("train {}: iteration {}/{}", job.name, it, config_.train.iterations));
    if (between_steps) between_steps();
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_run_record(layout_, job, config_, result, rows, seconds, world_);
  log::info(fmt::format("train {}: done in {:.1f} s (final loss D {:.3f}, G {:.3f})", job.name, seconds,
               result.loss_d.back(), result.loss_g.back()));
}

void Executor::attack(const Job& job) {
  run_attack_job(job, {.config = config_, .layout = layout_, .world = world_, .pool = *pool_, .splits = splits(job.seed)});
}

bool job_done(const Layout& layout, const Job& job) {
  return std::filesystem::exists(job.collective() ? layout.attack_record(job.name) : layout.run_record(job.name));
}

}  // namespace ganleaks::runner
