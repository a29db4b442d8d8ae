#include "extraction/task.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/interrupt.h"
#include "core/log.h"
#include "data/pool.h"
#include "dist/tensor_comm.h"
#include "extraction/parts.h"
#include "extraction/report.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "runner/folder.h"
#include "train/run_job.h"

namespace ganleaks::extraction {

std::filesystem::path queries_file(const runner::Layout& layout, const std::string& job) {
  return layout.record(std::string(kQueriesFolder), job);
}
std::filesystem::path refined_file(const runner::Layout& layout, const std::string& job) {
  return layout.record(std::string(kRefinedFolder), job);
}
std::filesystem::path evaluation_file(const runner::Layout& layout, const std::string& job) {
  return layout.record(std::string(kEvaluationsFolder), job);
}

Task::Task(Config config) : ConfiguredTask(std::move(config)), plan_(make_plan(config_)) {}
Task::~Task() = default;

std::vector<std::string> Task::folders() const {
  return {"runs", std::string(kQueriesFolder), std::string(kRefinedFolder), std::string(kEvaluationsFolder)};
}

std::filesystem::path Task::output(const runner::Layout& layout, const runner::Job& job) const {
  switch (plan_.specs[job.id].kind) {
    case JobKind::kTrain: return layout.run_record(job.name);
    case JobKind::kClassifier: return classifier_record(classifier_dir(layout, config_));
    case JobKind::kQueries: return queries_file(layout, job.name);
    case JobKind::kRefine: return refined_file(layout, job.name);
    case JobKind::kEvaluate: return evaluation_file(layout, job.name);
  }
  throw std::logic_error("extraction: unknown job kind");
}

void Task::start(const runner::RunContext& context) {
  // Fixed per rank: ranks that share cores must not oversubscribe them, and the thread count must not vary between
  // runs that are compared bit for bit.
  at::set_num_threads(config_.experiment.threads_per_rank);
  pool_ = std::make_shared<data::Pool>(data::Pool::load(config_.data));
  // A user-supplied FID feature network is checked (loaded and probed) before any work starts.
  if (context.world.is_root()) check_feature_network(config_);
  for (const auto seed : config_.experiment.seeds) splits(seed);  // impossible sizes: a clean error on every rank
  group_ = std::make_unique<dist::TensorComm>(context.group);
}

const data::ExtractionSplits& Task::splits(std::uint64_t seed) {
  auto it = splits_.find(seed);
  if (it == splits_.end()) it = splits_.emplace(seed, make_extraction_splits(config_, *pool_, seed)).first;
  return it->second;
}

void Task::run(const runner::Job& entry, const runner::RunContext& context, const std::function<void()>& between_steps) {
  const auto job = runner::described(entry, plan_.specs[entry.id]);
  const ExtractionInputs in{.config = config_, .layout = context.layout, .world = context.world,
                            .device = at::Device(context.device), .pool = *pool_, .splits = splits(job.seed)};
  switch (job.kind) {
    case JobKind::kTrain: return train(job, context, between_steps);
    case JobKind::kClassifier:
      return train_classifier_job(job, config_, context.layout, context.world.rank(), in.device, between_steps);
    case JobKind::kQueries: return answer_queries(job, in);
    case JobKind::kRefine: return refine(job, in);
    case JobKind::kEvaluate: return evaluate(job, in);
  }
}

namespace {

// An attack run's training set: the first job.queries answers of its queries job, or accuracy extraction's refined
// samples followed by the thief's partial real records.
at::Tensor thief_training_set(const Job& run, const ExtractionInputs& in) {
  if (!run.method.starts_with("accuracy")) return read_images(queries_file(in.layout, run.input), run.queries);
  const auto refined = read_images(refined_file(in.layout, run.input));
  const std::vector<std::int64_t> partial(in.splits.target.begin(),
                                          in.splits.target.begin() + in.config.extraction.partial_real);
  return torch::cat({refined, in.pool.rows(partial)});
}

}  // namespace

void Task::train(const Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) {
  const auto& s = splits(job.seed);
  std::vector<std::int64_t> rows;  // pool indices; none for the thief's GANs, which train on answers
  at::Tensor records;
  if (job.role == Role::kAttack) {
    records = thief_training_set(job, {.config = config_, .layout = context.layout, .world = context.world,
                                       .device = at::Device(context.device), .pool = *pool_, .splits = s});
  } else {
    rows = job.role == Role::kTarget ? s.target : s.transfer;
    records = pool_->rows(rows);
  }
  auto train = config_.train;
  train.iterations = job.iterations;
  train::TrainingJob run{.name = job.name, .hash = job.hash,
                         .role = job.role == Role::kTarget ? "target" : job.role == Role::kAttack ? "attack" : "transfer",
                         .train_size = job.train_size, .seed = job.seed,
                         .spec = {.model = config_.model.only(job.model), .train = train,
                                  .group = group_->size() > 1 ? group_.get() : nullptr, .seed = job.training_seed,
                                  .device = at::Device(context.device), .bf16 = config_.experiment.precision == "bf16",
                                  .settings = job.hash,
                                  .run_dir = context.layout.run_dir(job.name),
                                  .init_from = job.init.empty() ? std::filesystem::path{} : context.layout.run_dir(job.init),
                                  .interrupt = [] { return interrupt_requested(); }},
                         .records = records, .rows = std::move(rows), .world_rank = context.world.rank()};
  train::run_training_job(run, between_steps, {}, [&](const io::H5Group& root) {
    if (!job.input.empty()) {  // the thief's GAN: what it learnt from
      root.set_attr("input", job.input);
      root.set_attr("queries", job.queries);
    }
    if (!job.method.empty()) root.set_attr("method", job.method);
    if (!job.init.empty()) root.set_attr("init", job.init);
  });
}

void Task::assemble(const runner::Layout& layout, const io::H5File& results) const {
  const auto root = results.root();
  const auto pool = pool_ ? pool_ : std::make_shared<const data::Pool>(data::Pool::load(config_.data));
  for (const auto seed : config_.experiment.seeds) {
    const auto g = root.create_group(fmt::format("splits/seed{}", seed));
    const auto s = make_extraction_splits(config_, *pool, seed);
    g.write("target", std::span<const std::int64_t>(s.target));
    g.write("transfer", std::span<const std::int64_t>(s.transfer));
    g.set_attr("note", "the thief's partial real data = first extraction.partial_real of target");
  }
  for (const auto& job : plan_.jobs) {
    const auto in = io::H5File::open_read(output(layout, job));
    switch (plan_.specs[job.id].kind) {
      case JobKind::kTrain: io::copy_group(in, "/", results, "runs/" + job.name); break;
      case JobKind::kClassifier: io::copy_group(in, "/", results, "classifier"); break;
      // The answers and refined images stay in their own files; results.h5 gets their records.
      case JobKind::kQueries: io::copy_group(in, "record", results, "queries/" + job.name); break;
      case JobKind::kRefine: io::copy_group(in, "record", results, "refined/" + job.name); break;
      case JobKind::kEvaluate: io::copy_group(in, "/", results, "extraction/" + job.name); break;
    }
  }
}

data::ExtractionSplits make_extraction_splits(const Config& config, const data::Pool& pool, std::uint64_t seed) {
  const auto& e = config.extraction;
  return data::make_extraction_splits(pool.labels(),
                                      {.target_size = e.target_train_size, .target_classes = e.target_classes,
                                       .transfer_size = e.transfer ? e.transfer_train_size : 0,
                                       .transfer_classes = e.transfer_classes},
                                      seed);
}

std::string Task::report(const runner::Layout& layout) const {
  const auto rows = read_extraction_rows(layout.results());
  std::string classifier;
  {
    const auto file = io::H5File::open_read(layout.results());
    if (file.root().has("classifier")) {
      const auto c = file.root().open_group("classifier");
      classifier = fmt::format("The classifier behind the features and class histograms reaches {:.1f} % accuracy on "
                               "Fashion-MNIST's {} test images (not Inception: FIDs here compare within this project only).",
                               100 * c.attr_double("test_accuracy"), c.attr_int("test_records"));
    }
  }
  const auto body = extraction_markdown(rows, classifier);
  const auto text = fmt::format(
      "# ganleaks report: {}\n\nModel extraction (Stealing GANs, Hu & Pang 2021): target {} trained on {} Fashion-MNIST "
      "records; fidelity = FID(attack, target), accuracy = FID(attack, real).\n\n{}"
      "![FID vs queries](plots/fid_vs_queries.png)\n\n## Resolved config\n\n```toml\n{}```\n\n"
      "Provenance: `provenance.toml`; per-rank logs: `logs/`; every evaluation: `results.h5` (/extraction); answers: "
      "`queries/`, refined samples: `refined/`; LaTeX tables: `report.tex`.\n",
      config_.experiment.name, fmt::join(config_.model.names, ", "), config_.extraction.target_train_size, body,
      to_toml(config_));
  io::write_file(layout.report_md(), text);
  io::write_file(layout.report_csv(), extraction_csv(rows));
  io::write_file(layout.report_tex(), extraction_latex(rows));
  if (const auto problem = write_extraction_plots(rows, layout.plots()); !problem.empty()) {
    log::warn(fmt::format("plots not drawn: {}; tables and data are complete", problem));
  }
  return body;
}

}  // namespace ganleaks::extraction
