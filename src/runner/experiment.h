#pragma once
// One experiment from config to results, for any task (runner/task.h): prepare the folder (or resume it), run the
// plan over the ranks, assemble results.h5 and the report on rank 0.
#include <string>
#include <utility>
#include <vector>

#include "dist/comm.h"
#include "runner/cost.h"
#include "runner/layout.h"
#include "runner/plan.h"
#include "runner/task.h"

namespace ganleaks::runner {

struct RunOptions {
  bool fresh = false;        // start over in a new folder instead of resuming an existing one
  std::string command_line;  // recorded in the provenance
  Slice slice;               // the share of the plan this process runs (runner/plan.h)
  std::string device = "cpu";  // this rank's compute device (dist/device.h)
  // Library versions beyond the runner's own (MPI, HDF5, Boost), for the provenance: {"libtorch", "2.11.0"}.
  std::vector<std::pair<std::string, std::string>> versions;
};

// "k/N" (0 <= k < N) as given to `ganleaks run --slice`; UserError naming the option otherwise.
Slice parse_slice(const std::string& text);

struct RunOutcome {
  Layout layout;             // the experiment folder
  bool interrupted = false;  // a signal stopped it early (core/interrupt.h); a rerun resumes
  bool complete = false;     // every job of the experiment is done (not only this slice's): results.h5 can be made
  std::int64_t jobs_done = 0, jobs_total = 0;  // of the whole experiment
};

// Collective over `world`. Throws UserError on every rank alike when the input is bad (before any work); a
// failure after that ends the whole job (MPI_Abort) rather than leave ranks waiting. Every rank returns the same
// outcome.
RunOutcome run_experiment(Task& task, const RunOptions& options, const dist::Comm& world);

// The plan as a table for `ganleaks plan` (which jobs, what they need, which are already done), the job count by
// kind and, unless estimate is false, the estimated cost of the jobs left (Task::estimate).
struct PlanOptions {
  bool estimate = true;
  int ranks = 1;  // for the wall-time estimate
  GpuSpeedup gpu;
};
std::string describe_plan(const Task& task, const PlanOptions& options = {});

// Rank 0: results.h5 from the committed job records, then the report; returns the table to print.
std::string assemble_results(const Task& task, const Layout& layout);
// The report again from an existing results.h5 (`ganleaks report`); returns the table.
std::string write_report(const Task& task, const Layout& layout);

// Every rank runs `step`; when it throws UserError on any rank, every rank throws the message of the lowest such
// rank, so that all stop alike.
void agreed(const dist::Comm& world, const std::function<void()>& step);
// Rank 0 runs `step`; every rank throws its UserError alike.
void on_root_agreed(const dist::Comm& world, const std::function<void()>& step);

}  // namespace ganleaks::runner
