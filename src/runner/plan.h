#pragma once
// The job graph of an experiment as the runner handles it: hashes that say what each output depends on, the
// share of a plan one process runs (slices), and whether a job's output is already there.
#include <filesystem>
#include <vector>

#include "runner/job.h"

namespace ganleaks::runner {

class Task;

// Every job's hash: of its inputs and of its dependencies' hashes (a Merkle DAG: a change upstream reaches every
// job below it). Dependencies come first in `jobs`.
void hash_jobs(std::vector<Job>& jobs);
// The task's jobs with their hashes.
std::vector<Job> make_plan(const Task& task);

// A share of the plan for one of N concurrent processes (Slurm job arrays, `ganleaks run --slice k/N`). Shared
// jobs (Job::shared) belong to no slice; every other job belongs to the unit of its first non-shared dependency,
// or starts a unit of its own (a trained model with the jobs that use it). Unit u is in slice u mod N. A slice is its units' jobs
// plus every job they depend on (run by whichever slice gets there first; outputs are deterministic and
// committed atomically).
struct Slice {
  int index = 0, count = 1;  // k of N
  bool whole() const { return count == 1; }
};
std::vector<bool> jobs_in_slice(const std::vector<Job>& jobs, const Slice& slice);

// kDone: the output exists, is intact and was made with the job's current hash; kStale: it exists from other
// settings (a rerun never overwrites it); kBroken: it exists but cannot be trusted (unreadable, or its content or a
// file it vouches for differs from what was committed: io/record.h), so the job is done again; kMissing: still to do.
enum class JobState { kMissing, kDone, kStale, kBroken };
// `problem`, when given, receives what is wrong with a kBroken output.
JobState job_state(const std::filesystem::path& output, const Job& job, std::string* problem = nullptr);

}  // namespace ganleaks::runner
