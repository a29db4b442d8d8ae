#include "runner/extraction_job.h"

#include "core/log.h"
#include "core/seeding.h"
#include "data/images.h"
#include "data/idx.h"
#include "metrics/divergence.h"
#include "runner/extraction_parts.h"

namespace ganleaks::runner {
namespace extraction {
namespace {

// ---- evaluate: FID and JS of a trained model -------------------------------------------------------------

SampleStatistics statistics_of_rows(const ExtractionInputs& in, const std::vector<std::int64_t>& rows,
                                    const FeatureFunctions& functions) {
  return sample_statistics(in.world, static_cast<std::int64_t>(rows.size()), [&](std::int64_t c, std::int64_t n) {
    return in.pool.rows(std::span(rows).subspan(static_cast<std::size_t>(c * kStatisticsChunk), static_cast<std::size_t>(n)));
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
  Evaluator evaluator(in.config, in.layout);
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
    const auto baseline = io::H5File::open_read(in.layout.extraction_record(target_evaluation_name(in.config, job.model, job.seed)));
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
  commit_record(in.layout.extraction_record(job.name), job, in, start, nullptr, [&](const io::H5Group& r) {
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
      const auto data = io::H5File::open_read(refined ? in.layout.refined(input) : in.layout.queries(input));
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

}  // namespace extraction

using namespace extraction;

void run_extraction_job(const Job& job, const ExtractionInputs& inputs) {
  switch (job.kind) {
    case JobKind::kQueries: return answer_queries(job, inputs);
    case JobKind::kRefine: return refine(job, inputs);
    case JobKind::kEvaluate: return evaluate(job, inputs);
    default: throw std::logic_error("run_extraction_job: " + job.name + " is not an extraction job");
  }
}

void check_feature_network(const Config& config) {
  if (config.features.extractor == "torchscript") {
    metrics::TorchScriptExtractor(config.features.torchscript_model, metrics::torchscript_options(config.features));
  }
}

std::filesystem::path classifier_record(const std::filesystem::path& classifier_dir) {
  return classifier_dir / "classifier.h5";
}

void train_classifier_job(const Job& job, const Config& config, const Layout& layout, int rank,
                          const std::function<void()>& between_steps) {
  const auto start = Clock::now();
  const auto dir = layout.classifier_dir(classifier_cache_key(config));
  std::filesystem::create_directories(dir);
  // The evaluator is trained on Fashion-MNIST's training files and tested on its test files, whatever data.pool.
  const auto tensors = [&](std::string_view part) {
    const auto set = data::load_fashion_mnist(config.data.path, part);
    std::vector<std::int64_t> rows(static_cast<std::size_t>(set.count));
    std::iota(rows.begin(), rows.end(), std::int64_t{0});
    return std::pair{data::images_to_tensor(set, rows, 32), std::vector<std::int64_t>(set.labels.begin(), set.labels.end())};
  };
  const auto [train_images, train_labels] = tensors("train");
  const auto [test_images, test_labels] = tensors("test");
  const auto& f = config.features;
  log::info(fmt::format("classifier: training on {} images, {} iterations", train_images.size(0), f.classifier_iterations));
  const auto model = models::train_classifier(train_images, train_labels, classifier_options(config),
                                              {.iterations = static_cast<int>(f.classifier_iterations),
                                               .batch_size = f.classifier_batch_size, .lr = f.classifier_lr, .seed = job.seed,
                                               .on_step = [&](int) {
                                                 if (between_steps) between_steps();
                                               }});
  const double accuracy = models::classifier_accuracy(model, test_images, test_labels);
  models::save_classifier(model, classifier_file(dir));
  io::write_atomically(classifier_record(dir), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    const auto r = file.root();
    r.set_attr("job_hash", job.hash);
    r.set_attr("test_accuracy", accuracy);
    r.set_attr("train_records", train_images.size(0));
    r.set_attr("test_records", test_images.size(0));
    r.set_attr("iterations", f.classifier_iterations);
    r.set_attr("feature_dim", static_cast<std::int64_t>(f.classifier_feature_dim));
    r.set_attr("cache_key", classifier_cache_key(config));
    r.set_attr("wall_seconds", std::chrono::duration<double>(Clock::now() - start).count());
    record_placement(r, placement(rank, 1));
  });
  log::info(fmt::format("classifier: test accuracy {:.4f} ({} test images), cached in {}", accuracy, test_images.size(0),
                        dir.string()));
}

at::Tensor thief_training_set(const Job& run, const ExtractionInputs& in) {
  if (!run.method.starts_with("accuracy")) return read_images(in.layout.queries(run.input), run.queries);
  const auto refined = read_images(in.layout.refined(run.input));
  const std::vector<std::int64_t> partial(in.splits.target.begin(),
                                          in.splits.target.begin() + in.config.extraction.partial_real);
  return torch::cat({refined, in.pool.rows(partial)});
}

}  // namespace ganleaks::runner
