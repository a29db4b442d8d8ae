#include "runner/experiment.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"
#include "dist/collectives.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "io/record.h"
#include "runner/coordinator.h"
#include "runner/executor.h"
#include "runner/folder.h"
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

void agreed(const dist::Comm& world, const std::function<void()>& step) {
  std::string error;
  try {
    step();
  } catch (const UserError& e) {
    error = e.what();
  }
  std::int64_t first_failed = error.empty() ? world.size() : world.rank();
  world.all_reduce(std::span(&first_failed, 1), dist::ReduceOp::kMin);
  if (first_failed == world.size()) return;
  dist::broadcast(world, error, static_cast<int>(first_failed));
  throw UserError(error);
}

void on_root_agreed(const dist::Comm& world, const std::function<void()>& step) {
  agreed(world, [&] {
    if (world.is_root()) step();
  });
}

std::string describe_plan(const Task& task, const PlanOptions& options) {
  const auto jobs = make_plan(task);
  const auto layout = layout_for(task.experiment());
  std::string out = fmt::format("{} jobs for experiment '{}' ({}):\n", jobs.size(), task.experiment().name,
                                layout.root.string());
  int done = 0;
  std::map<std::string, int> kinds;
  std::vector<Job> left;  // what the estimate counts
  for (const auto& job : jobs) {
    const auto state = job_state(task.output(layout, job), job);
    const bool finished = state == JobState::kDone;
    done += finished;
    ++kinds[job.kind];
    if (!finished) left.push_back(job);
    std::vector<std::string> needs;
    for (int d : job.depends_on) needs.push_back(jobs[d].name);
    out += fmt::format("  [{:>3}] {:<10} {:<28} {}{}{}\n", job.id, job.kind, job.name,
                       needs.empty() ? "" : fmt::format("after {}", fmt::join(needs, ", ")), task.describe(job),
                       finished                      ? "  (done)"
                       : state == JobState::kStale  ? "  (done with other settings: kept, blocks a rerun)"
                       : state == JobState::kBroken ? "  (its record cannot be trusted: will be done again)"
                                                    : "");
  }
  out += fmt::format("{} of {} already done.\n", done, jobs.size());
  std::vector<std::string> counts;
  for (const auto& [kind, n] : kinds) counts.push_back(fmt::format("{} {}", n, kind));
  out += fmt::format("Jobs by kind: {}.\n", fmt::join(counts, ", "));
  if (options.estimate) out += describe_cost(task.estimate(left), options.ranks, options.gpu);
  return out;
}

std::string write_report(const Task& task, const Layout& layout) {
  if (!fs::exists(layout.results())) {
    throw UserError(fmt::format("{}: no such file; run `ganleaks run` for this config first", layout.results().string()));
  }
  if (const auto check = io::check_record(layout.results()); !check.trusted()) {
    throw UserError(fmt::format("{}: {}; run `ganleaks run` for this config again to rebuild it from the finished jobs' "
                                "records (nothing is recomputed)",
                                layout.results().string(), check.problem));
  }
  return task.report(layout);
}

std::string assemble_results(const Task& task, const Layout& layout) {
  // results.h5 holds a copy of every record: HDF5 copying objects onto a full disk does not fail cleanly, so the room
  // is checked first (the records' size and a margin).
  std::uintmax_t bytes = std::uintmax_t{1} << 20;
  for (const auto& job : task.jobs()) {
    std::error_code ec;
    const auto size = fs::file_size(task.output(layout, job), ec);
    if (!ec) bytes += size;
  }
  io::ensure_space(layout.results(), bytes);
  io::commit_record(layout.results(), [&](const fs::path& tmp) {
    const auto out = io::H5File::create(tmp);
    const auto root = out.root();
    root.set_attr("experiment", task.experiment().name);
    root.set_attr("config", task.resolved_config());
    if (fs::exists(layout.provenance())) root.set_attr("provenance", read_text(layout.provenance()));
    task.assemble(layout, out);
  });
  return write_report(task, layout);
}

namespace {

// How a run ended, the same on every rank after one all-reduce (of the maxima).
struct Ending {
  enum : std::size_t { kInterrupted, kJobsDone, kComplete, kBadInput };
  std::array<std::int64_t, 4> values{};  // jobs done: of the whole experiment; the others 0 or 1
};

// Rank 0: hands out the jobs of this slice (running its own share between answering others) until every job is
// done, a job failed or a signal came. A job that failed on bad input (a full disk, a bad file) leaves its message
// in `failure`; any other failure is thrown.
Ending coordinate(Task& task, const std::vector<Job>& jobs, const RunOptions& options, const RunContext& context,
                  const dist::Comm& leaders, std::string& failure) {
  const auto& layout = context.layout;
  const auto in_slice = jobs_in_slice(jobs, options.slice);
  const auto done_now = [&](const Job& job) { return job_state(task.output(layout, job), job) == JobState::kDone; };
  std::vector<bool> done;  // for the coordinator, jobs outside this slice count as done
  for (const auto& job : jobs) done.push_back(!in_slice[job.id] || done_now(job));
  const auto started = std::chrono::steady_clock::now();
  const auto here = std::ranges::count(in_slice, true);
  const auto outside = static_cast<std::int64_t>(jobs.size()) - here;
  // A progress bar for people watching: stderr is a terminal (launch/mpi says so for the ranks under mpirun).
  const bool terminal = ::isatty(STDERR_FILENO) != 0 || std::getenv("GANLEAKS_TERMINAL") != nullptr;
  const Coordinator* self = nullptr;
  std::optional<Progress> progress;
  Coordinator coordinator(jobs, done, leaders, [&](const JobReport& report, const Job& job) {
    const auto status = progress->update(self->jobs_done() - outside, self->jobs_running());
    log::info(fmt::format("done {} on rank {} ({}) in {:.1f} s; {}", job.name, report.rank, report.host,
                          report.wall_seconds, status));
    if (terminal) std::fprintf(stderr, "%s\n", progress->bar().c_str());
  });
  self = &coordinator;
  progress.emplace(here, coordinator.jobs_done() - outside);
  const int per_run = task.experiment().ranks_per_run;
  log::info(fmt::format("experiment {}: {} jobs{}, {} already done, {} ranks{}", task.experiment().name, here,
                        options.slice.whole() ? "" : fmt::format(" in slice {} of {} ({} in all)", options.slice.index,
                                                                 options.slice.count, jobs.size()),
                        coordinator.jobs_done() - outside, context.world.size(),
                        per_run > 1 ? fmt::format(" in training groups of {}", per_run) : ""));
  while (auto job = coordinator.next_for_root()) {
    relay_to_group(context.group, job);
    coordinator.finished_on_root(run_job(task, *job, context, [&] { coordinator.serve_pending(); }));
  }
  relay_to_group(context.group, std::nullopt);
  coordinator.drain();
  if (coordinator.failure() && !coordinator.failure_is_bad_input()) throw std::runtime_error(*coordinator.failure());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::int64_t finished = std::ranges::count_if(jobs, done_now);
  const auto total = static_cast<std::int64_t>(jobs.size());
  log::info(coordinator.interrupted()
                ? fmt::format("interrupted after {:.1f} s: {} of {} jobs done; rerun to resume", seconds, finished, total)
                : fmt::format("{} jobs done in {:.1f} s ({} of {} in the experiment)", here, seconds, finished, total));
  if (coordinator.failure()) failure = *coordinator.failure();
  return {{coordinator.interrupted() ? 1 : 0, finished, finished == total ? 1 : 0, coordinator.failure() ? 1 : 0}};
}

}  // namespace

RunOutcome run_experiment(Task& task, const RunOptions& options, const dist::Comm& world) {
  const auto& experiment = task.experiment();
  if (world.size() % experiment.ranks_per_run != 0) {
    throw UserError(fmt::format("{}: experiment.ranks_per_run = {} does not divide the {} ranks of this job; launch a "
                                "multiple of {} ranks",
                                task.source(), experiment.ranks_per_run, world.size(), experiment.ranks_per_run));
  }
  const auto jobs = make_plan(task);
  Layout layout;
  std::optional<PreparedFolder> folder;  // rank 0's, with the folder's lock, held until the run ends
  on_root_agreed(world, [&] {
    folder.emplace(prepare_folder(task, jobs, options.fresh));
    layout = folder->layout;
  });
  auto root_path = layout.root.string();
  dist::broadcast(world, root_path, 0);
  layout.root = root_path;

  // Slices of one experiment run side by side: each keeps its own rank logs.
  const auto log_file = options.slice.whole() ? layout.rank_log(world.rank())
                                              : layout.logs() / fmt::format("rank-{}.slice-{}-of-{}.log", world.rank(),
                                                                            options.slice.index, options.slice.count);
  log::start(log_file, world.rank(), world.is_root());
  if (folder) {
    for (const auto& record : folder->broken) log::warn(fmt::format("{}; its job is done again", record));
  }
  const auto provenance = provenance_toml(options.command_line, world, options.versions);  // collective
  on_root_agreed(world, [&] { io::write_file(layout.provenance(), provenance); });

  // Training groups of ranks_per_run consecutive ranks; their rank 0s (the leaders) talk to the coordinator on a
  // communicator of their own, so coordinator messages never meet collective traffic.
  const int per_run = experiment.ranks_per_run;
  const auto group = world.split(world.rank() / per_run, world.rank()).value();
  const bool leader = group.rank() == 0;
  const auto leaders = world.split(leader ? 0 : -1, world.rank());
  const RunContext context{.world = world, .group = group, .layout = layout, .device = options.device};
  agreed(world, [&] { task.start(context); });  // data, splits and the user's files, before any work
  log::info(fmt::format("rank {} computes on {}", world.rank(), options.device));

  Ending ending;
  std::string failure;  // rank 0: a job that failed on bad input
  try {
    if (world.is_root()) {
      ending = coordinate(task, jobs, options, context, *leaders, failure);
    } else if (leader) {
      run_worker(*leaders, [&](const Job& job) {
        relay_to_group(group, job);
        return run_job(task, job, context);
      });
      relay_to_group(group, std::nullopt);
    } else {
      while (auto job = receive_from_group_leader(group)) run_job(task, *job, context);
    }
  } catch (const std::exception& e) {
    // Other ranks may be inside a collective with this one: only ending the job frees them.
    const bool bad_input = dynamic_cast<const UserError*>(&e) != nullptr;
    log::critical(fmt::format("rank {} failed: {}", world.rank(), e.what()));
    if (bad_input) {
      std::fprintf(stderr, "ganleaks: error: %s\n", one_line(e.what()).c_str());
    } else {
      std::fprintf(stderr, "ganleaks: rank %d failed: %s\n", world.rank(), e.what());
    }
    dist::Environment::abort(bad_input ? kExitUserError : 1);
  }
  // Every rank learns how the run ended, so that all exit alike (kExitInterrupted when a signal stopped it, exit 2
  // when a job failed on bad input).
  auto& end = ending.values;
  world.all_reduce(std::span(end), dist::ReduceOp::kMax);
  if (end[Ending::kBadInput]) throw UserError(world.is_root() ? failure : "a job failed on bad input; rank 0 says which");
  return {.layout = layout, .interrupted = end[Ending::kInterrupted] != 0, .complete = end[Ending::kComplete] != 0,
          .jobs_done = end[Ending::kJobsDone], .jobs_total = static_cast<std::int64_t>(jobs.size())};
}

}  // namespace ganleaks::runner
