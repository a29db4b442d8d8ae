#include "train/run_job.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <chrono>

#include "core/log.h"
#include "dist/placement.h"
#include "dist/tensor_comm.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "io/record.h"
#include "metrics/fid.h"

namespace ganleaks::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The trained model's files in its folder (generator.pt, ...; not the checkpoint): what its record vouches for.
std::vector<std::string> release_files(const std::filesystem::path& run_dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".pt" && name != "checkpoint.pt") names.push_back(name);
  }
  std::ranges::sort(names);
  return names;
}

void write_record(const TrainingJob& job, const RunResult& result, double seconds, const SampleQuality& quality,
                  const std::function<void(const io::H5Group&)>& describe) {
  io::commit_record(job.spec.run_dir / "run.h5", [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    const auto root = file.root();
    root.set_attr("job_hash", job.hash);
    root.set_attr("model", job.spec.model.name());
    root.set_attr("role", job.role);
    root.set_attr("train_size", job.train_size);
    root.set_attr("seed", static_cast<std::int64_t>(job.seed));
    root.set_attr("iterations", result.iterations);
    root.set_attr("resumed_from", result.resumed_from);
    root.set_attr("privacy", job.level.display());
    if (const auto& dp = job.dp) {
      // SPEC §2: every DP run records what its guarantee rests on.
      root.set_attr("dp_epsilon", dp->epsilon);
      root.set_attr("dp_delta", dp->delta);
      root.set_attr("dp_noise_multiplier", dp->noise_multiplier);
      root.set_attr("dp_sample_rate", dp->sample_rate);
      root.set_attr("dp_steps", dp->steps);
      root.set_attr("dp_max_grad_norm", dp->max_grad_norm);
      root.set_attr("dp_rdp_order", dp->order);
      root.set_attr("dp_target_epsilon", job.level.target_epsilon > 0 ? job.level.target_epsilon : kNaN);
      root.set_attr("dp_noise", job.secure_noise ? "secure (getrandom)" : "seeded");
      root.write("dp_batch_size", std::span<const float>(result.dp_batch_size));
      root.write("dp_clipped_fraction", std::span<const float>(result.dp_clipped_fraction));
    } else {
      root.set_attr("dp_epsilon", kNaN);  // SPEC §5: NaN without DP
    }
    if (describe) describe(root);
    root.set_attr("records", job.records.size(0));
    root.set_attr("wall_seconds", seconds);
    const int ranks = job.spec.group ? job.spec.group->size() : 1;
    dist::record_placement(root, dist::placement(job.world_rank, ranks, job.spec.device.str()));
    // Images: FID on pooled pixels (sample_fid); records: the dimension-wise error (sample_quality only).
    const bool fid = quality.measure == metrics::kPooledPixelExtractor;
    root.set_attr("sample_fid", fid ? quality.value : kNaN);
    root.set_attr("sample_quality", quality.value);
    root.set_attr("sample_quality_measure", quality.measure);
    root.set_attr("sample_fid_extractor", metrics::kPooledPixelExtractor);
    root.set_attr("sample_fid_real", quality.real);
    root.set_attr("sample_fid_generated", quality.generated);
    root.write("loss_d", std::span<const float>(result.loss_d));
    root.write("loss_g", std::span<const float>(result.loss_g));
    root.write("train_index", std::span<const std::int64_t>(job.rows));
    root.set_attr(io::kFileDigests, io::file_digests(job.spec.run_dir, release_files(job.spec.run_dir)));
  });
}

}  // namespace

void run_training_job(const TrainingJob& job, const std::function<void()>& between_steps,
                      const std::function<SampleQuality(models::Networks&)>& quality,
                      const std::function<void(const io::H5Group&)>& describe) {
  const auto& spec = job.spec;
  const int ranks = spec.group ? spec.group->size() : 1;
  log::info(fmt::format("train {}: {} records, {} iterations{}{}", job.name, job.records.size(0), spec.train.iterations,
                        spec.init_from.empty() ? "" : ", starting from " + spec.init_from.filename().string(),
                        ranks > 1 ? fmt::format(", data parallel over {} ranks", ranks) : ""));
  if (const auto& dp = job.dp) {
    log::info(fmt::format("train {}: DP-SGD σ = {:.4g}, q = {:.4g}, C = {}, {} steps → ε = {:.3g} at δ = {:g}", job.name,
                          dp->noise_multiplier, dp->sample_rate, dp->max_grad_norm, dp->steps, dp->epsilon, dp->delta));
  }
  const auto start = std::chrono::steady_clock::now();
  const auto total = pretraining_iterations(spec) + spec.train.iterations;
  const auto log_every = std::max<std::int64_t>(1, total / 4);
  auto result = train_model(spec, job.records, [&](std::int64_t it) {
    if (it % log_every == 0) log::info(fmt::format("train {}: iteration {}/{}", job.name, it, total));
    if (between_steps) between_steps();
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (spec.group && spec.group->rank() != 0) return;  // the group's rank 0 records the run
  write_record(job, result, seconds, quality ? quality(result.networks) : SampleQuality{}, describe);
  log::info(fmt::format("train {}: done in {:.1f} s (final loss D {:.3f}, G {:.3f})", job.name, seconds,
                        result.loss_d.back(), result.loss_g.back()));
}

}  // namespace ganleaks::train
