// The evaluate job: fidelity and accuracy FID and the class-histogram JS divergences of a trained model.
#include "core/log.h"
#include "core/seeding.h"
#include "extraction/parts.h"
#include "metrics/divergence.h"

namespace ganleaks::extraction {
namespace {

SampleStatistics statistics_of_rows(const ExtractionInputs& in, const std::vector<std::int64_t>& rows,
                                    const FeatureFunctions& functions) {
  return sample_statistics(in.world, static_cast<std::int64_t>(rows.size()), [&](std::int64_t c, std::int64_t n) {
    return in.pool.rows(std::span(rows).subspan(static_cast<std::size_t>(c * models::kSampleChunk), static_cast<std::size_t>(n)))
        .to(in.device);
  }, functions);
}

SampleStatistics statistics_of_model(const ExtractionInputs& in, models::Networks& model, std::uint64_t stream_seed,
                                     const FeatureFunctions& functions) {
  return sample_statistics(in.world, in.config.extraction.fid_samples, [&](std::int64_t c, std::int64_t n) {
    return generated(*model.generator, stream_seed, c, n);
  }, functions);
}

}  // namespace

void evaluate(const Job& job, const ExtractionInputs& in) {
  const auto start = Clock::now();
  Evaluator evaluator(in.config, in.layout, in.device);
  const auto functions = evaluator.functions();
  const auto model_name = job.method == "target" ? job.model : [&] {
    // Attack and transfer runs record their own model.
    const auto record = io::H5File::open_read(in.layout.run_record(job.input));
    return record.root().attr_string("model");
  }();
  auto model = load_run(in, model_name, job.input);
  const auto stream_seed = derive_seed(job.seed, "fid:" + job.input);
  const auto samples = statistics_of_model(in, model, stream_seed, functions);
  // The comparison sets: the target's samples and its training data (from the target's evaluation), or for the
  // transfer study the new domain's records.
  std::optional<SampleStatistics> target_samples, real;
  StoredStats target_stored, real_stored;
  if (job.method == "target") {
    real = statistics_of_rows(in, in.splits.target, functions);
    real_stored = {real->gaussian, real->class_histogram()};
  } else if (job.method.starts_with("transfer")) {
    real = statistics_of_rows(in, in.splits.transfer, functions);
    real_stored = {real->gaussian, real->class_histogram()};
  } else {
    const auto baseline = io::H5File::open_read(evaluation_file(in.layout, target_evaluation_name(in.config, job.model, job.seed)));
    target_stored = read_stats(baseline.root(), "samples");
    real_stored = read_stats(baseline.root(), "real");
  }
  if (!in.world.is_root()) return;
  const auto histogram = samples.class_histogram();
  const bool has_target = target_stored.gaussian.count > 0;
  const auto fidelity = has_target ? fid(samples.gaussian, target_stored.gaussian) : Fid{};
  const auto accuracy = fid(samples.gaussian, real_stored.gaussian);
  const double js_fidelity = has_target ? metrics::js_divergence(histogram, target_stored.class_histogram) : kNaN;
  const double js_accuracy = metrics::js_divergence(histogram, real_stored.class_histogram);
  commit_record(evaluation_file(in.layout, job.name), job, in, start, nullptr, [&](const io::H5Group& r) {
    r.set_attr("run", job.input);
    r.set_attr("method", job.method);
    r.set_attr("model", model_name);
    r.set_attr("target_model", job.model);
    r.set_attr("prior", job.prior.empty() ? "normal" : job.prior);
    r.set_attr("defense", job.defense.empty() ? "none" : job.defense);
    r.set_attr("defense_strength", job.defense.empty() ? kNaN : job.strength);
    // SPEC §3: fidelity = FID(p̃_g, p_g), accuracy = FID(p̃_g, p_r); lower is a better theft.
    r.set_attr("fidelity_fid", fidelity.value);
    r.set_attr("fidelity_fid_eigenvalues", fidelity.via_product);
    r.set_attr("accuracy_fid", accuracy.value);
    r.set_attr("accuracy_fid_eigenvalues", accuracy.via_product);
    r.set_attr("js_fidelity", js_fidelity);
    r.set_attr("js_accuracy", js_accuracy);
    r.set_attr("js", js_accuracy);  // SPEC §5's `js`: class histogram vs the real data's
    r.set_attr("fid_real_samples", real_stored.gaussian.count);
    evaluator.describe(r, samples.gaussian.count, stream_seed);
    write_stats(r, "samples", samples);
    if (real) write_stats(r, "real", *real);
    // What the thief paid and what the owner's defense cost (from the answers' and refined samples' records).
    if (const auto run = io::H5File::open_read(in.layout.run_record(job.input)); run.root().has_attr("input")) {
      const auto input = run.root().attr_string("input");
      const bool refined = job.method.starts_with("accuracy");
      const auto data = io::H5File::open_read(refined ? refined_file(in.layout, input) : queries_file(in.layout, input));
      const auto record = data.root().open_group("record");
      // The thief paid for the answers it used (the first n of the query job's), or for the whole refinement.
      r.set_attr("generator_calls", refined ? record.attr_int("generator_calls") : job.queries);
      r.set_attr("training_records", run.root().attr_int("records"));
      r.set_attr("utility_fid", refined ? kNaN : record.attr_double("utility_fid"));
      if (refined) r.set_attr("refined", record.attr_int("refined"));
    }
  });
  log::info(fmt::format("evaluate {}: fidelity FID {:.3f}, accuracy FID {:.3f} ({})", job.name, fidelity.value,
                        accuracy.value, evaluator.fid().label()));
}

}  // namespace ganleaks::extraction
