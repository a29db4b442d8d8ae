#pragma once
// A job of the plan as the runner sees it: a name, what it needs, who runs it and what its output depends on.
// What a job does is its task's business (runner/task.h): tasks keep their own description of each job, by id.
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <string>
#include <vector>

namespace ganleaks::runner {

struct Job {
  int id = -1;                  // its place in the plan
  std::string name;             // unique; names its output, so a rerun finds what is done
  std::string kind;             // what sort of job it is ("train", ...): for plans, logs and the cost table
  // false: one rank, or the data-parallel group of ranks_per_run ranks it was handed to (training); true: every
  // rank of the job takes part (its work sharded over them), so every rank is handed it.
  bool collective = false;
  // Needed by many other jobs (reference models, targets): in no slice of its own (runner/plan.h, Slice).
  bool shared = false;
  std::vector<int> depends_on;  // job ids, all earlier in the plan
  // What the job's output depends on besides its dependencies, as text (the settings it reads, its seed).
  std::string inputs;
  // A hash of `inputs` and of its dependencies' hashes (runner/plan.h): a finished job's record carries it, and a
  // rerun reuses the record only while it still matches.
  std::string hash;

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & id & name & kind & collective & shared & depends_on & inputs & hash;
  }
};

// A task's plan: the jobs as the runner sees them and, by the same id, the task's own description of each.
template <class Spec>
struct TaskPlan {
  std::vector<Job> jobs;    // without hashes (runner::hash_jobs adds them)
  std::vector<Spec> specs;  // specs[id] describes jobs[id]
};

// A job as its task's code sees it: the task's description of it with the name and hash the runner knows it by.
template <class Spec>
struct Described : Spec {
  std::string name, hash;
};
template <class Spec>
Described<Spec> described(const Job& job, const Spec& spec) {
  return {spec, job.name, job.hash};
}

// What a rank tells rank 0 about a job it ran.
struct JobReport {
  int job_id = -1;
  bool ok = true;
  std::string error;
  double wall_seconds = 0;
  int rank = 0;
  std::string host;
  bool interrupted = false;  // stopped early by a signal (core/interrupt.h), checkpointed; not done
  bool bad_input = false;    // failed on the input or the machine (a UserError: a full disk, a bad file), not a bug

  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & job_id & ok & error & wall_seconds & rank & host & interrupted & bad_input;
  }
};

}  // namespace ganleaks::runner
