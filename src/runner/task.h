#pragma once
// The seam between the runner and what an experiment measures. The runner (this folder) owns what every task
// shares: the job graph's hashes, resume and slices, the rank-0 coordinator, the experiment folder, progress and
// provenance. A task (a folder of its own beside this one) owns its config, its jobs and what they do, its records,
// results.h5's contents and the report. A new task is a new folder with a class implementing this interface and
// one line in the program's list of tasks (app/tasks.cpp).
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "runner/config.h"
#include "runner/cost.h"
#include "runner/job.h"
#include "runner/layout.h"

namespace ganleaks::dist {
class Comm;
}
namespace ganleaks::io {
class H5File;
}

namespace ganleaks::runner {

// Where a job runs: every rank of the job, this rank's data-parallel group (ranks_per_run consecutive ranks; a group
// of one by default) and the device this rank computes on ("cpu", "cuda:1": dist/device.h chose it).
struct RunContext {
  const dist::Comm& world;
  const dist::Comm& group;
  const Layout& layout;
  const std::string& device;
};

class Task {
 public:
  virtual ~Task() = default;

  virtual const ExperimentConfig& experiment() const = 0;
  // The file (or name) the config came from: every error about it starts with this.
  virtual const std::string& source() const = 0;
  // The config with every key resolved: config.toml, results.h5's `config`, compared when a run resumes.
  virtual std::string resolved_config() const = 0;
  // The experiment folder's sub-folders its jobs write into ("runs", ...).
  virtual std::vector<std::string> folders() const = 0;

  // The job graph, dependencies first, without hashes (runner::make_plan adds them); the same on every rank.
  virtual std::vector<Job> jobs() const = 0;
  // The file a finished job writes last, with the attribute job_hash at its root.
  virtual std::filesystem::path output(const Layout& layout, const Job& job) const = 0;
  // Extra detail on a job for `ganleaks plan` ("" for none).
  virtual std::string describe(const Job&) const { return ""; }
  // What `jobs` will cost, measured on this process (`ganleaks plan`).
  virtual CostEstimate estimate(const std::vector<Job>& jobs) const = 0;

  // Every rank, before any job: loads data, checks the user's files. Throws UserError on bad input (the runner
  // makes every rank stop alike).
  virtual void start(const RunContext& context) = 0;
  // Runs one job: every rank of context.world for a collective job, every rank of context.group otherwise.
  // between_steps (may be empty) is to be called often during long work: rank 0 answers other ranks there.
  // Throws core/interrupt.h's Interrupted when it stopped early for a signal, with its progress saved.
  virtual void run(const Job& job, const RunContext& context, const std::function<void()>& between_steps) = 0;

  // Rank 0, when every job is done: the task's part of results.h5 (its records copied in, its splits).
  virtual void assemble(const Layout& layout, const io::H5File& results) const = 0;
  // report.md, report.csv, report.tex and plots/ from results.h5; returns the table `ganleaks run` prints.
  virtual std::string report(const Layout& layout) const = 0;
  // What that table shows: "Membership-inference AUC".
  virtual std::string headline() const = 0;
};

}  // namespace ganleaks::runner
