#include "runner/experiment.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

#include "attacks/lpips.h"
#include "core/errors.h"
#include "core/log.h"
#include "data/pool.h"
#include "dist/tensor_comm.h"
#include "io/atomic_file.h"
#include "io/extraction_report.h"
#include "io/h5.h"
#include "io/plots.h"
#include "io/report.h"
#include "runner/coordinator.h"
#include "runner/estimate.h"
#include "runner/executor.h"
#include "runner/extraction_job.h"
#include "runner/progress.h"
#include "runner/provenance.h"

namespace ganleaks::runner {
namespace fs = std::filesystem;

Slice parse_slice(const std::string& text) {
  int index = -1, count = 0;
  char slash = 0, extra = 0;
  std::istringstream in(text);
  if (!(in >> index >> slash >> count) || slash != '/' || (in >> extra) || count < 1 || index < 0 || index >= count) {
    throw UserError(fmt::format("--slice {}: expected k/N with 0 <= k < N, e.g. --slice 0/4", text));
  }
  return {index, count};
}

Layout layout_for(const Config& config) {
  return Layout{fs::path(config.experiment.results_dir) / config.experiment.name};
}

namespace {

std::tm local_time_now() {
  const auto now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return tm;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
  io::write_atomically(file, [&](const fs::path& tmp) {
    std::ofstream out(tmp);
    out << text;
    if (!out.flush()) throw UserError(fmt::format("cannot write {}", tmp.string()));
  });
}

// Rank 0 decides where the experiment goes and whether it may: a folder holding another config is never
// touched; the same config resumes; --fresh picks a new folder name.
Layout prepare_folder(const Config& config, const RunOptions& options) {
  auto layout = layout_for(config);
  const auto resolved = to_toml(config);
  if (fs::exists(layout.root) && options.fresh) {
    const auto stamp = fmt::format("{:%Y%m%d-%H%M%S}", local_time_now());
    layout.root += "-" + stamp;
  }
  // Finished jobs are reused when their hash (what they were computed from) still matches; a record made
  // from other settings is never overwritten.
  const bool changed = fs::exists(layout.config()) && read_text(layout.config()) != resolved;
  if (fs::exists(layout.root)) {
    std::vector<std::string> stale;
    for (const auto& job : make_plan(config)) {
      if (job_state(layout, config, job) == JobState::kStale) stale.push_back(fs::relative(job_output(layout, config, job), layout.root).string());
    }
    if (!stale.empty()) {
      const auto count = stale.size();
      stale.resize(std::min<std::size_t>(count, 3));
      throw UserError(fmt::format(
          "{} holds results of a different config: {} finished job(s) were computed with other settings ({}{}); they are "
          "kept. Rerun with --fresh to start a new folder, or change experiment.name",
          layout.root.string(), count, fmt::join(stale, ", "), count > 3 ? ", ..." : ""));
    }
  }
  if (changed) {
    // Nothing finished depends on what changed (a sweep extended, say): keep the old config beside the new one.
    const auto old = layout.root / fmt::format("config-until-{:%Y%m%d-%H%M%S}.toml", local_time_now());
    std::error_code ec;
    fs::rename(layout.config(), old, ec);
  }
  std::error_code ec;
  std::vector<fs::path> dirs{layout.root, layout.logs(), layout.root / "runs"};
  if (config.experiment.task == "extraction") {
    for (const auto* d : {"queries", "refined", "extraction"}) dirs.push_back(layout.root / d);
    dirs.push_back(layout.cache());
  } else {
    dirs.push_back(layout.root / "attacks");
  }
  for (const auto& dir : dirs) {
    fs::create_directories(dir, ec);
    if (ec) throw UserError(fmt::format("cannot create results folder {}: {}", dir.string(), ec.message()));
  }
  const auto probe = layout.root / ".write-test";
  {
    std::ofstream out(probe);
    if (!(out << "ok")) throw UserError(fmt::format("results folder {} is not writable", layout.root.string()));
  }
  fs::remove(probe, ec);
  if (!fs::exists(layout.config())) write_text(layout.config(), resolved);
  return layout;
}

// Runs `step` on rank 0 only; every rank then throws the same UserError if it failed, so all exit alike.
template <class Step>
void on_root_agreed(const dist::Comm& world, Step step) {
  std::string error;
  if (world.is_root()) {
    try {
      step();
    } catch (const UserError& e) {
      error = e.what();
    }
  }
  std::vector<std::byte> bytes(error.size());
  std::memcpy(bytes.data(), error.data(), error.size());
  world.broadcast(bytes, 0);
  if (!bytes.empty()) throw UserError(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace

std::string describe_plan(const Config& config, const PlanOptions& options) {
  const auto jobs = make_plan(config);
  const auto layout = layout_for(config);
  std::string out = fmt::format("{} jobs for experiment '{}' ({}):\n", jobs.size(), config.experiment.name,
                                layout.root.string());
  int done = 0;
  std::map<std::string, int> kinds;
  std::vector<Job> left;  // what the estimate counts
  for (const auto& job : jobs) {
    const auto state = job_state(layout, config, job);
    const bool finished = state == JobState::kDone;
    done += finished;
    ++kinds[std::string(kind_name(job.kind))];
    if (!finished) left.push_back(job);
    std::string deps;
    for (int d : job.depends_on) deps += (deps.empty() ? "" : ", ") + jobs[d].name;
    std::string privacy;
    if (!job.collective() && !job.privacy.empty()) {
      const auto dp = dp_settings(config, privacy_level(config, job.privacy), job.train_size);
      privacy = fmt::format("DP-SGD σ = {:.3g}, q = {:.3g}, {} steps: ε = {:.3g} at δ = {:g}", dp.noise_multiplier,
                            dp.sample_rate, dp.steps, dp.epsilon, dp.delta);
    }
    out += fmt::format("  [{:>3}] {:<10} {:<28} {}{}{}\n", job.id, kind_name(job.kind), job.name,
                       deps.empty() ? "" : "after " + deps, privacy,
                       finished ? "  (done)" : state == JobState::kStale ? "  (done with other settings: kept, blocks a rerun)" : "");
  }
  out += fmt::format("{} of {} already done.\n", done, jobs.size());
  std::vector<std::string> counts;
  for (const auto& [kind, n] : kinds) counts.push_back(fmt::format("{} {}", n, kind));
  out += fmt::format("Jobs by kind: {}.\n", fmt::join(counts, ", "));
  if (options.estimate) out += describe_cost(estimate_cost(config, left), options.ranks, options.gpu_speedup);
  return out;
}

namespace {

// report.md and friends of an extraction experiment.
std::string write_extraction_report(const Config& config, const Layout& layout) {
  const auto rows = io::read_extraction_rows(layout.results());
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
  const auto body = io::extraction_markdown(rows, classifier);
  const auto text = fmt::format(
      "# ganleaks report: {}\n\nModel extraction (Stealing GANs, Hu & Pang 2021): target {} trained on {} Fashion-MNIST "
      "records; fidelity = FID(attack, target), accuracy = FID(attack, real).\n\n{}"
      "![FID vs queries](plots/fid_vs_queries.png)\n\n## Resolved config\n\n```toml\n{}```\n\n"
      "Provenance: `provenance.toml`; per-rank logs: `logs/`; every evaluation: `results.h5` (/extraction); answers: "
      "`queries/`, refined samples: `refined/`; LaTeX tables: `report.tex`.\n",
      config.experiment.name, fmt::join(config.model.names, ", "), config.extraction.target_train_size, body,
      to_toml(config));
  write_text(layout.report_md(), text);
  write_text(layout.report_csv(), io::extraction_csv(rows));
  write_text(layout.report_tex(), io::extraction_latex(rows));
  if (const auto problem = io::write_extraction_plots(rows, layout.plots()); !problem.empty()) {
    log::warn(fmt::format("plots not drawn: {}; tables and data are complete", problem));
  }
  return body;
}

}  // namespace

std::string write_report(const Config& config, const Layout& layout) {
  if (!fs::exists(layout.results())) {
    throw UserError(fmt::format("{}: no such file; run `ganleaks run` for this config first", layout.results().string()));
  }
  if (config.experiment.task == "extraction") return write_extraction_report(config, layout);
  const auto rows = io::read_attack_rows(layout.results());
  const auto auc = io::auc_table(rows, io::TableStyle::kMarkdown);
  auto victims = io::victim_table_markdown(layout.results(), rows);
  if (!victims.empty()) {
    victims = "## Victims: leak and utility\n\nOne row per victim. DP-SGD on the discriminator (docs/privacy.md): ε at δ "
              "from the RDP accountant, σ noise multiplier, q sample rate. Sample quality against the reference split "
              "(lower is better): FID on 8×8-pooled pixels for images (not Inception FID), the dimension-wise error for "
              "records. AUC of every attack (calibrated where run).\n\n" + victims + "\n";
  }
  const auto spread = config.experiment.seeds.size() == 1
                          ? std::string("[95 % bootstrap interval over queries]")
                          : fmt::format("mean ± standard deviation over {} seeds", config.experiment.seeds.size());
  const auto text = fmt::format(
      "# ganleaks report: {}\n\nMembership-inference AUC (0.5 = no leak, 1 = every member identified), "
      "model {} on {}, {}.\n\n{}\n![AUC vs training-set size](plots/auc_vs_size.png)\n\n"
      "{}## TPR at low FPR\n\n{}\nROC curves: `plots/roc_n<size>.png`.\n\n## Resolved config\n\n```toml\n{}```\n\n"
      "Provenance: `provenance.toml`; per-rank logs: `logs/`; all scores: `results.h5`; LaTeX table: `report.tex`.\n",
      config.experiment.name, fmt::join(config.model.names, ", "), config.data.dataset, spread, auc, victims, io::tpr_tables_markdown(rows),
      to_toml(config));
  write_text(layout.report_md(), text);
  write_text(layout.report_csv(), io::attack_rows_csv(rows));
  write_text(layout.report_tex(), io::auc_table(rows, io::TableStyle::kLatex));
  if (const auto problem = io::write_plots(rows, layout.plots()); !problem.empty()) {
    log::warn(fmt::format("plots not drawn: {}; tables and data are complete", problem));
  }
  return auc;
}

std::string assemble_results(const Config& config, const Layout& layout) {
  const auto jobs = make_plan(config);
  const auto pool = data::Pool::load(config.data);
  io::write_atomically(layout.results(), [&](const fs::path& tmp) {
    const auto out = io::H5File::create(tmp);
    const auto root = out.root();
    root.set_attr("experiment", config.experiment.name);
    root.set_attr("config", to_toml(config));
    if (fs::exists(layout.provenance())) root.set_attr("provenance", read_text(layout.provenance()));
    for (const auto seed : config.experiment.seeds) {
      const auto g = root.create_group(fmt::format("splits/seed{}", seed));
      if (config.experiment.task == "extraction") {
        const auto s = make_extraction_splits(config, pool, seed);
        g.write("target", std::span<const std::int64_t>(s.target));
        g.write("transfer", std::span<const std::int64_t>(s.transfer));
        g.set_attr("note", "the thief's partial real data = first extraction.partial_real of target");
        continue;
      }
      const auto s = make_seed_splits(config, pool, seed);
      g.write("reference", std::span<const std::int64_t>(s.reference));
      g.write("holdout", std::span<const std::int64_t>(s.holdout));
      g.write("train_pool", std::span<const std::int64_t>(s.train_pool));
      g.set_attr("note", "victim training set of size n = first n of train_pool");
    }
    for (const auto& job : jobs) {
      const auto in = io::H5File::open_read(job_output(layout, config, job));
      switch (job.kind) {
        case JobKind::kAttack:
          for (const auto& group : in.root().children()) io::copy_group(in, group, out, "attacks/" + group);
          break;
        case JobKind::kTrain: io::copy_group(in, "/", out, "runs/" + job.name); break;
        case JobKind::kClassifier: io::copy_group(in, "/", out, "classifier"); break;
        // The answers and refined images stay in their own files; results.h5 gets their records.
        case JobKind::kQueries: io::copy_group(in, "record", out, "queries/" + job.name); break;
        case JobKind::kRefine: io::copy_group(in, "record", out, "refined/" + job.name); break;
        case JobKind::kEvaluate: io::copy_group(in, "/", out, "extraction/" + job.name); break;
      }
    }
  });
  return write_report(config, layout);
}

RunOutcome run_experiment(const Config& config, const RunOptions& options, const dist::Comm& world) {
  if (world.size() % config.experiment.ranks_per_run != 0) {
    throw UserError(fmt::format("{}: experiment.ranks_per_run = {} does not divide the {} ranks of this job; launch a "
                                "multiple of {} ranks",
                                config.source, config.experiment.ranks_per_run, world.size(),
                                config.experiment.ranks_per_run));
  }
  Layout layout;
  on_root_agreed(world, [&] { layout = prepare_folder(config, options); });
  std::vector<std::byte> root_path;
  if (world.is_root()) {
    const auto s = layout.root.string();
    root_path.resize(s.size());
    std::memcpy(root_path.data(), s.data(), s.size());
  }
  world.broadcast(root_path, 0);
  layout.root = std::string(reinterpret_cast<const char*>(root_path.data()), root_path.size());

  // Every rank reads the dataset; if any cannot, all stop with rank 0's message.
  std::shared_ptr<data::Pool> pool;
  std::string load_error;
  try {
    pool = std::make_shared<data::Pool>(data::Pool::load(config.data));
  } catch (const UserError& e) {
    load_error = e.what();
  }
  std::int64_t failed = load_error.empty() ? 0 : 1;
  world.all_reduce(std::span(&failed, 1), dist::ReduceOp::kMax);
  if (failed) throw UserError(load_error.empty() ? "the dataset could not be read on another rank" : load_error);

  // A user-supplied LPIPS model or FID feature network is checked (loaded and probed) before any work starts.
  if (config.attack.lambda_lpips > 0) {
    on_root_agreed(world, [&] { attacks::Lpips(config.attack.lpips_model, 1, config.data.image_size); });
  }
  if (config.experiment.task == "extraction") on_root_agreed(world, [&] { check_feature_network(config); });

  // Slices of one experiment run side by side: each keeps its own rank logs.
  const auto log_file = options.slice.whole() ? layout.rank_log(world.rank())
                                              : layout.logs() / fmt::format("rank-{}.slice-{}-of-{}.log", world.rank(),
                                                                            options.slice.index, options.slice.count);
  log::start(log_file, world.rank(), world.is_root());
  const auto provenance = provenance_toml(options.command_line, world);  // collective: gathers host names
  on_root_agreed(world, [&] { write_text(layout.provenance(), provenance); });

  const auto jobs = make_plan(config);
  // Training groups of ranks_per_run consecutive ranks; their rank 0s (the leaders) talk to the coordinator
  // on a communicator of their own, so coordinator messages never meet collective traffic.
  const int per_run = config.experiment.ranks_per_run;
  const auto group = world.split(world.rank() / per_run, world.rank()).value();
  dist::TensorComm group_tensors(group);
  const bool leader = group.rank() == 0;
  const auto leaders = world.split(leader ? 0 : -1, world.rank());
  Executor executor(config, layout, world, group_tensors, pool);
  // Splits are checked up front so that impossible sizes are a clean error on every rank.
  for (const auto seed : config.experiment.seeds) executor.check_splits(seed);

  const auto in_slice = jobs_in_slice(jobs, options.slice);
  std::int64_t outcome[3] = {0, 0, 0};  // interrupted, jobs of the experiment done, complete
  try {
    if (world.is_root()) {
      std::vector<bool> done;  // for the coordinator, jobs outside this slice count as done
      for (const auto& job : jobs) done.push_back(!in_slice[job.id] || job_done(layout, config, job));
      const auto started = std::chrono::steady_clock::now();
      const auto here = std::ranges::count(in_slice, true);
      const auto outside = static_cast<std::int64_t>(jobs.size()) - here;  // count as done for the coordinator
      // A progress bar for people watching: stderr is a terminal (launch/mpi says so for the ranks under mpirun).
      const bool terminal = ::isatty(STDERR_FILENO) != 0 || std::getenv("GANLEAKS_TERMINAL") != nullptr;
      const Coordinator* self = nullptr;
      std::optional<Progress> progress;
      Coordinator coordinator(jobs, done, *leaders, [&](const JobReport& report, const Job& job) {
        const auto status = progress->update(self->jobs_done() - outside, self->jobs_running());
        log::info(fmt::format("done {} on rank {} ({}) in {:.1f} s; {}", job.name, report.rank, report.host,
                              report.wall_seconds, status));
        if (terminal) std::fprintf(stderr, "%s\n", progress->bar().c_str());
      });
      self = &coordinator;
      progress.emplace(here, coordinator.jobs_done() - outside);
      log::info(fmt::format("experiment {}: {} jobs{}, {} already done, {} ranks{}", config.experiment.name, here,
                            options.slice.whole() ? "" : fmt::format(" in slice {} of {} ({} in all)", options.slice.index,
                                                                     options.slice.count, jobs.size()),
                            coordinator.jobs_done() - outside, world.size(),
                            per_run > 1 ? fmt::format(" in training groups of {}", per_run) : ""));
      while (auto job = coordinator.next_for_root()) {
        relay_to_group(group, job);
        coordinator.finished_on_root(executor.run(*job, [&] { coordinator.serve_pending(); }));
      }
      relay_to_group(group, std::nullopt);
      coordinator.drain();
      if (coordinator.failure()) throw std::runtime_error(*coordinator.failure());
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      outcome[0] = coordinator.interrupted();
      outcome[1] = std::ranges::count_if(jobs, [&](const Job& job) { return job_done(layout, config, job); });
      outcome[2] = outcome[1] == static_cast<std::int64_t>(jobs.size());
      log::info(coordinator.interrupted()
                    ? fmt::format("interrupted after {:.1f} s: {} of {} jobs done; rerun to resume", seconds,
                                  outcome[1], jobs.size())
                    : fmt::format("{} jobs done in {:.1f} s ({} of {} in the experiment)", here, seconds, outcome[1],
                                  jobs.size()));
    } else if (leader) {
      run_worker(*leaders, [&](const Job& job) {
        relay_to_group(group, job);
        return executor.run(job);
      });
      relay_to_group(group, std::nullopt);
    } else {
      while (auto job = receive_from_group_leader(group)) executor.run(*job);
    }
  } catch (const std::exception& e) {
    log::critical(fmt::format("rank {} failed: {}", world.rank(), e.what()));
    std::fprintf(stderr, "ganleaks: rank %d failed: %s\n", world.rank(), e.what());
    dist::Environment::abort(1);
  }
  // Every rank learns how the run ended, so that all exit alike (kExitInterrupted when a signal stopped it).
  world.all_reduce(std::span(outcome), dist::ReduceOp::kMax);
  return {.layout = layout, .interrupted = outcome[0] != 0, .complete = outcome[2] != 0, .jobs_done = outcome[1],
          .jobs_total = static_cast<std::int64_t>(jobs.size())};
}

}  // namespace ganleaks::runner
