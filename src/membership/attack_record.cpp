#include "membership/attack_record.h"

#include <fmt/format.h>

#include <limits>
#include <numeric>
#include <stdexcept>

#include "attacks/membership.h"
#include "core/seeding.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "io/record.h"
#include "membership/calibration.h"
#include "metrics/bootstrap.h"
#include "metrics/roc.h"

namespace ganleaks::membership {
namespace {

// 95 % bootstrap intervals as <metric>_ci_low / _ci_high (NaN when bootstrap_resamples = 0).
void write_intervals(const io::H5Group& group, const std::vector<double>& scores, const data::QuerySet& queries,
                     int resamples, std::uint64_t seed) {
  metrics::MetricIntervals ci;
  if (resamples > 0) {
    ci = metrics::bootstrap_intervals(scores, queries.is_member, resamples, seed);
  } else {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    ci.auc = {nan, nan};
    ci.tpr.fill({nan, nan});
  }
  group.set_attr("bootstrap_resamples", static_cast<std::int64_t>(resamples));
  group.set_attr("auc_ci_low", ci.auc.low);
  group.set_attr("auc_ci_high", ci.auc.high);
  for (std::size_t f = 0; f < metrics::kReportedFprs.size(); ++f) {
    group.set_attr(fmt::format("tpr_at_fpr_{}_ci_low", metrics::kReportedFprs[f]), ci.tpr[f].low);
    group.set_attr(fmt::format("tpr_at_fpr_{}_ci_high", metrics::kReportedFprs[f]), ci.tpr[f].high);
  }
}

// What the stored per-query `distance` (and `distance_reference`) is: the value the score subtracts.
std::string distance_measure(const std::string& setting) {
  if (setting == "fbb") return "Euclidean distance to the nearest generated sample";
  if (setting == "pbb" || setting == "wb") return "reconstruction loss MSE + lambda_lpips * perceptual distance";
  if (setting == "dis") return "-realness (discriminator logit, ELBO for the VAE)";
  if (setting == "mc") return "-(fraction of generated samples within the radius)";
  return "-log density (Gaussian kernel estimate)";  // domias
}

}  // namespace

void write_scored_group(const io::H5Group& group, const ScoredGroup& what, const Job& job, const Config& config,
                        const data::QuerySet& queries, const dist::Placement& where, double seconds) {
  const auto& level = job.level;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto& scores = what.scores;
  const auto roc = metrics::roc_curve(scores, queries.is_member);
  group.set_attr("job_hash", job.hash);
  dist::record_placement(group, where);
  group.set_attr("wall_seconds", seconds);
  group.set_attr("model", job.model);
  if (!job.variant.empty()) group.set_attr("variant", job.variant);
  group.set_attr("train_size", job.train_size);
  group.set_attr("setting", what.setting);
  group.set_attr("calibrated", static_cast<std::int64_t>(what.calibration != calibration::kNone));
  group.set_attr("calibration", what.calibration);
  group.set_attr("seed", static_cast<std::int64_t>(job.seed));
  group.set_attr("privacy", level.display());
  group.set_attr("dp_epsilon", job.dp ? job.dp->epsilon : nan);  // SPEC §5: NaN without DP
  group.set_attr("dp_target_epsilon", level.target_epsilon > 0 ? level.target_epsilon : nan);
  group.set_attr("dp_noise_multiplier", job.dp ? job.dp->noise_multiplier : nan);
  group.set_attr("auc", metrics::auc(scores, queries.is_member));
  for (const double fpr : metrics::kReportedFprs) {
    group.set_attr(fmt::format("tpr_at_fpr_{}", fpr), metrics::tpr_at_fpr(roc, fpr));
  }
  write_intervals(group, scores, queries, config.attack.bootstrap_resamples, derive_seed(job.seed, "bootstrap:" + what.name));
  group.write("score", std::span<const double>(scores));
  group.write("is_member", std::span<const std::uint8_t>(queries.is_member));
  group.write("sample_index", std::span<const std::int64_t>(queries.sample_index));
  std::vector<double> fpr, tpr, threshold;
  for (const auto& p : roc) {
    fpr.push_back(p.fpr);
    tpr.push_back(p.tpr);
    threshold.push_back(p.threshold);
  }
  group.write("roc_fpr", std::span<const double>(fpr));
  group.write("roc_tpr", std::span<const double>(tpr));
  group.write("roc_threshold", std::span<const double>(threshold));
}

void write_attack_record(const std::filesystem::path& path, const Job& job, const Config& config,
                         const data::QuerySet& queries, const Losses& victim, const Losses& reference,
                         const dist::Placement& where, double seconds) {
  const auto& cfg = config.attack;
  const auto total = static_cast<double>(queries.sample_index.size());
  // One group per reported variant: raw, calibrated, and for fbb also calibrated on squared distances.
  std::vector<ScoredGroup> variants;
  for (const bool calibrated : cfg.calibrated) {
    variants.push_back({attack_group_name(job.name, calibrated), job.setting,
                        std::string(calibrated ? calibration::kReference : calibration::kNone),
                        attacks::membership_scores(victim.loss, calibrated ? &reference.loss : nullptr)});
    if (calibrated && job.setting == "fbb") {
      variants.push_back({squared_calibration_group_name(job.name), "fbb-squared", std::string(calibration::kReference),
                          attacks::squared_calibrated_scores(victim.loss, reference.loss)});
    }
  }
  io::commit_record(path, [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    file.root().set_attr("job_hash", job.hash);  // the resume marker's settings (runner/plan.h)
    for (const auto& variant : variants) {
      const bool calibrated = variant.calibration != calibration::kNone;
      const auto group = file.root().create_group(variant.name);
      write_scored_group(group, variant, job, config, queries, where, seconds);
      for (const auto& [key, value] : victim.attrs) group.set_attr(key, value);
      if (calibrated) {
        for (const auto& [key, value] : reference.attrs) group.set_attr(key + "_reference", value);
      }
      if (job.setting == "wb" || job.setting == "pbb") {
        group.set_attr("lambda_reg", search_lambda_reg(config, job.model));
        group.set_attr("lambda_lpips", cfg.lambda_lpips);
        group.set_attr("lpips_model", cfg.lpips_model);
        group.set_attr("perceptual", cfg.perceptual);
        const auto sum = std::accumulate(victim.evaluations.begin(), victim.evaluations.end(), std::int64_t{0});
        group.set_attr("generator_evaluations_per_query", static_cast<double>(sum) / total);
        group.write("generator_evaluations", std::span<const std::int64_t>(victim.evaluations));
      }
      group.set_attr("distance_measure", distance_measure(job.setting));
      group.write("distance", std::span<const double>(victim.loss));
      if (calibrated) group.write("distance_reference", std::span<const double>(reference.loss));
    }
  });
}

void write_signal_record(const std::filesystem::path& path, const Job& job, const std::string& run,
                         const std::vector<std::int64_t>& rows, std::int64_t queries, const Losses& losses,
                         const dist::Placement& where, double seconds) {
  io::commit_record(path, [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    const auto root = file.root();
    root.set_attr("job_hash", job.hash);
    dist::record_placement(root, where);
    root.set_attr("wall_seconds", seconds);
    root.set_attr("run", run);
    root.set_attr("setting", job.setting);
    root.set_attr("distance_measure", distance_measure(job.setting));
    root.set_attr("queries", queries);  // rows [0, queries) are the query set, the rest RMIA's population
    for (const auto& [key, value] : losses.attrs) root.set_attr(key, value);
    root.write("loss", std::span<const double>(losses.loss));
    root.write("sample_index", std::span<const std::int64_t>(rows));
  });
}

SignalRecord read_signal_record(const std::filesystem::path& path) {
  const auto file = io::H5File::open_read(path);
  const auto root = file.root();
  SignalRecord out{root.read_doubles("loss"), root.read_int64s("sample_index"), root.attr_int("queries")};
  if (out.loss.size() != out.rows.size() || out.queries > static_cast<std::int64_t>(out.rows.size())) {
    throw std::runtime_error(fmt::format("{}: {} losses for {} rows ({} queries)", path.string(), out.loss.size(),
                                         out.rows.size(), out.queries));
  }
  return out;
}

}  // namespace ganleaks::membership
