#include "runner/plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/seeding.h"
#include "io/h5.h"
#include "io/record.h"
#include "runner/task.h"

namespace ganleaks::runner {

void hash_jobs(std::vector<Job>& jobs) {
  for (auto& job : jobs) {  // dependencies come first, so their hashes are ready
    auto text = job.inputs;
    for (const int d : job.depends_on) text += "|" + jobs[d].hash;
    job.hash = fmt::format("{:016x}", hash_tag(text));
  }
}

std::vector<Job> make_plan(const Task& task) {
  auto jobs = task.jobs();
  hash_jobs(jobs);
  return jobs;
}

std::vector<bool> jobs_in_slice(const std::vector<Job>& jobs, const Slice& slice) {
  std::vector<int> unit(jobs.size(), -1);
  int units = 0;
  for (const auto& job : jobs) {  // dependencies come first in the plan
    if (job.shared) continue;
    const auto first = std::ranges::find_if(job.depends_on, [&](int d) { return !jobs[d].shared; });
    unit[job.id] = first != job.depends_on.end() ? unit[*first] : units++;
  }
  std::vector<bool> in(jobs.size(), false);
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {  // dependents before their dependencies
    if (unit[it->id] >= 0 && unit[it->id] % slice.count == slice.index) in[it->id] = true;
    if (in[it->id]) {
      for (const int d : it->depends_on) in[d] = true;
    }
  }
  return in;
}

JobState job_state(const std::filesystem::path& output, const Job& job, std::string* problem) {
  if (!std::filesystem::exists(output)) return JobState::kMissing;
  if (const auto check = io::check_record(output); !check.trusted()) {
    if (problem) *problem = check.problem;
    return JobState::kBroken;
  }
  const auto record = io::H5File::open_read(output);
  const auto root = record.root();
  return root.has_attr("job_hash") && root.attr_string("job_hash") == job.hash ? JobState::kDone : JobState::kStale;
}

}  // namespace ganleaks::runner
