#pragma once
// One experiment from config to results: prepare the folder (or resume it), run the plan over the ranks,
// assemble results.h5 and the report on rank 0.
#include <string>

#include "core/config.h"
#include "dist/comm.h"
#include "runner/estimate.h"
#include "runner/layout.h"
#include "runner/plan.h"

namespace ganleaks::runner {

struct RunOptions {
  bool fresh = false;        // start over in a new folder instead of resuming an existing one
  std::string command_line;  // recorded in the provenance
  Slice slice;               // the share of the plan this process runs (runner/plan.h)
};

// "k/N" (0 <= k < N) as given to `ganleaks run --slice`; UserError naming the option otherwise.
Slice parse_slice(const std::string& text);

struct RunOutcome {
  Layout layout;             // the experiment folder
  bool interrupted = false;  // a signal stopped it early (core/interrupt.h); a rerun resumes
  bool complete = false;     // every job of the experiment is done (not only this slice's): results.h5 can be made
  std::int64_t jobs_done = 0, jobs_total = 0;  // of the whole experiment
};

// Collective over `world`. Throws UserError on every rank alike when the input is bad (before any work);
// a failure after that ends the whole job (MPI_Abort) rather than leave ranks waiting. Every rank returns the
// same outcome.
RunOutcome run_experiment(const Config& config, const RunOptions& options, const dist::Comm& world);

// The plan as a table for `ganleaks plan` (which jobs, what they need, which are already done), the job count
// by kind and, unless estimate is false, the estimated cost of the jobs left (runner/estimate.h).
struct PlanOptions {
  bool estimate = true;
  int ranks = 1;                   // for the wall-time estimate
  double gpu_speedup = kAssumedGpuSpeedup;
};
std::string describe_plan(const Config& config, const PlanOptions& options = {});

// Rebuilds results.h5 from the committed job records, then report.md / report.csv; returns the report text.
std::string assemble_results(const Config& config, const Layout& layout);
// Rebuilds report.md / report.csv from an existing results.h5; returns the report text.
std::string write_report(const Config& config, const Layout& layout);

Layout layout_for(const Config& config);

}  // namespace ganleaks::runner
