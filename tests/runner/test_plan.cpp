// The runner's view of a plan, for any task: hashes that follow the dependency graph, slices, job states, and the
// messages ranks exchange about jobs.
#include "runner/plan.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "dist/serialize.h"
#include "io/h5.h"
#include "runner/messages.h"

namespace ganleaks::runner {
namespace {

// a <- b <- c, and d alone; b is shared (a reference model, say).
std::vector<Job> graph() {
  return {{.id = 0, .name = "a", .kind = "train", .inputs = "a"},
          {.id = 1, .name = "b", .kind = "train", .shared = true, .depends_on = {0}, .inputs = "b"},
          {.id = 2, .name = "c", .kind = "attack", .collective = true, .depends_on = {1}, .inputs = "c"},
          {.id = 3, .name = "d", .kind = "train", .inputs = "d"}};
}

// A hash covers the job's inputs and, through its dependencies' hashes, everything upstream: a Merkle DAG.
TEST(RunnerPlan, HashesCoverInputsAndEverythingUpstream) {
  auto jobs = graph();
  hash_jobs(jobs);
  for (const auto& job : jobs) EXPECT_EQ(job.hash.size(), 16u);
  auto changed = graph();
  changed[0].inputs = "a2";
  hash_jobs(changed);
  for (int i : {0, 1, 2}) EXPECT_NE(changed[i].hash, jobs[i].hash) << i;
  EXPECT_EQ(changed[3].hash, jobs[3].hash);
  auto same = graph();
  hash_jobs(same);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(same[i].hash, jobs[i].hash);
}

// Every job that is not shared lies in exactly one slice with its unit; a slice holds what its jobs need.
TEST(RunnerPlan, SlicesPartitionTheUnitsAndCarryTheirDependencies) {
  std::vector<Job> jobs;
  for (int seed = 0; seed < 3; ++seed) {  // per seed: a shared job, and five units of (job, collective after it)
    const int shared = static_cast<int>(jobs.size());
    jobs.push_back({.id = shared, .name = fmt::format("ref{}", seed), .shared = true});
    for (int u = 0; u < 5; ++u) {
      const int first = static_cast<int>(jobs.size());
      jobs.push_back({.id = first, .name = fmt::format("v{}-{}", seed, u)});
      jobs.push_back({.id = first + 1, .name = fmt::format("a{}-{}", seed, u), .collective = true, .depends_on = {first, shared}});
    }
  }
  std::vector<int> owners(jobs.size(), 0);
  for (int k = 0; k < 4; ++k) {
    const auto in = jobs_in_slice(jobs, {k, 4});
    for (const auto& job : jobs) {
      if (!in[job.id]) continue;
      if (!job.shared) ++owners[job.id];
      for (int d : job.depends_on) EXPECT_TRUE(in[d]) << job.name << " without its dependency " << jobs[d].name;
      if (job.collective) EXPECT_TRUE(in[job.depends_on[0]]) << job.name << " apart from its first dependency";
    }
  }
  for (const auto& job : jobs) {
    if (!job.shared) EXPECT_EQ(owners[job.id], 1) << job.name;
  }
  const auto whole = jobs_in_slice(jobs, {});
  EXPECT_TRUE(std::ranges::all_of(whole, [](bool b) { return b; }));
}

// A job is done when its output carries its current hash, stale when it carries another.
TEST(RunnerPlan, JobStateReadsTheRecordsHash) {
  auto jobs = graph();
  hash_jobs(jobs);
  const auto file = std::filesystem::temp_directory_path() / "ganleaks-job-state.h5";
  std::filesystem::remove(file);
  EXPECT_EQ(job_state(file, jobs[0]), JobState::kMissing);
  {
    const auto out = io::H5File::create(file);
    out.root().set_attr("job_hash", jobs[0].hash);
  }
  EXPECT_EQ(job_state(file, jobs[0]), JobState::kDone);
  EXPECT_EQ(job_state(file, jobs[1]), JobState::kStale);
  std::filesystem::remove(file);
}

TEST(Messages, RoundTripThroughBoostSerialization) {
  Assignment a;
  a.job = graph()[2];
  a.job.hash = "0123456789abcdef";
  const auto back = dist::from_bytes<Assignment>(dist::to_bytes(a));
  EXPECT_FALSE(back.stop);
  EXPECT_EQ(back.job.name, a.job.name);
  EXPECT_EQ(back.job.depends_on, a.job.depends_on);
  EXPECT_EQ(back.job.kind, a.job.kind);
  EXPECT_TRUE(back.job.collective);
  EXPECT_EQ(back.job.hash, a.job.hash);

  Request r;
  r.finished = {.job_id = 5, .ok = false, .error = "out of memory", .wall_seconds = 1.5, .rank = 1, .host = "node7"};
  const auto r2 = dist::from_bytes<Request>(dist::to_bytes(r));
  EXPECT_EQ(r2.finished.job_id, 5);
  EXPECT_FALSE(r2.finished.ok);
  EXPECT_EQ(r2.finished.error, "out of memory");
  EXPECT_EQ(r2.finished.host, "node7");
}

}  // namespace
}  // namespace ganleaks::runner
