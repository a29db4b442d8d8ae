// The coordinator's protocol on real Open MPI ranks, with jobs that only record what ran where: every
// training job runs exactly once, every rank runs every attack (collective) job in the same order, no job
// starts before its dependencies finished, finished jobs are skipped, a failure is reported by name.
#include "runner/coordinator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "runner/messages.h"
#include "runner/plan.h"

namespace ganleaks::runner {
namespace {

using Clock = std::chrono::steady_clock;  // system-wide on Linux: comparable across local ranks

struct Trace {
  int job = -1;
  double start = 0, end = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & job & start & end;
  }
};

double now() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

std::vector<Job> test_plan() {
  Config c;
  c.experiment.seeds = {0, 1};
  c.sweep.train_sizes = {16, 32, 64};
  c.attack.settings = {"fbb", "dis"};
  return make_plan(c);
}

// Runs the plan over the world with a fake job body; returns every rank's trace on rank 0.
std::vector<std::vector<Trace>> run_plan(const std::vector<Job>& jobs, std::vector<bool> done, int fail_job,
                                         std::optional<std::string>* failure) {
  const auto world = dist::Comm::world();
  const auto channel = world.duplicate();
  std::vector<Trace> trace;
  auto body = [&](const Job& job) {
    Trace t{job.id, now(), 0};
    if (job.collective()) {
      // A real collective: it would deadlock if ranks disagreed on the order of collective jobs.
      std::vector<std::int64_t> id{job.id};
      world.all_reduce(std::span(id), dist::ReduceOp::kMax);
      EXPECT_EQ(id[0], job.id) << "ranks entered different collective jobs";
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + 3 * (job.id % 4)));
    }
    t.end = now();
    trace.push_back(t);
    JobReport report{.job_id = job.id, .ok = job.id != fail_job, .error = "boom", .rank = world.rank(), .host = "h"};
    return report;
  };
  if (world.is_root()) {
    Coordinator coordinator(jobs, done, channel);
    while (auto job = coordinator.next_for_root()) coordinator.finished_on_root(body(*job));
    coordinator.drain();
    *failure = coordinator.failure();
  } else {
    run_worker(channel, body);
  }
  std::vector<std::vector<Trace>> all;
  for (const auto& bytes : world.gather(to_bytes(trace), 0)) all.push_back(from_bytes<std::vector<Trace>>(bytes));
  return all;
}

TEST(Coordinator, RunsEveryJobOnceAndCollectivesEverywhereInOrder) {
  const auto jobs = test_plan();
  std::optional<std::string> failure;
  const auto traces = run_plan(jobs, {}, -1, &failure);
  const auto world = dist::Comm::world();
  if (!world.is_root()) return;
  EXPECT_FALSE(failure.has_value());
  std::map<int, int> train_runs;
  std::map<int, double> finished_at;  // latest end over ranks
  std::vector<int> collective_order;
  for (int r = 0; r < world.size(); ++r) {
    std::vector<int> order;
    for (const auto& t : traces[r]) {
      finished_at[t.job] = std::max(finished_at[t.job], t.end);
      if (jobs[t.job].collective()) {
        order.push_back(t.job);
      } else {
        ++train_runs[t.job];
      }
    }
    if (r == 0) collective_order = order;
    EXPECT_EQ(order, collective_order) << "rank " << r << " ran collective jobs in another order";
  }
  for (const auto& job : jobs) {
    if (!job.collective()) EXPECT_EQ(train_runs[job.id], 1) << job.name;
  }
  EXPECT_EQ(collective_order.size(), 12u);
  for (int r = 0; r < world.size(); ++r) {
    for (const auto& t : traces[r]) {
      for (int dep : jobs[t.job].depends_on) {
        EXPECT_LE(finished_at[dep], t.start) << jobs[t.job].name << " started before " << jobs[dep].name;
      }
    }
  }
}

TEST(Coordinator, SkipsJobsAlreadyDone) {
  const auto jobs = test_plan();
  std::vector<bool> done(jobs.size(), false);
  for (const auto& job : jobs) done[job.id] = !job.collective() || job.seed == 0;  // only seed 1's attacks left
  std::optional<std::string> failure;
  const auto traces = run_plan(jobs, done, -1, &failure);
  if (!dist::Comm::world().is_root()) return;
  for (const auto& trace : traces) {
    for (const auto& t : trace) {
      EXPECT_FALSE(done[t.job]) << jobs[t.job].name << " ran although done";
    }
  }
}

TEST(Coordinator, AFailedTrainingJobStopsTheRunAndIsNamed) {
  const auto jobs = test_plan();
  const int victim = 1;  // victim-n16-s0
  ASSERT_EQ(jobs[victim].name, "victim-n16-s0");
  std::optional<std::string> failure;
  const auto traces = run_plan(jobs, {}, victim, &failure);
  if (!dist::Comm::world().is_root()) return;
  ASSERT_TRUE(failure.has_value());
  EXPECT_NE(failure->find("victim-n16-s0"), std::string::npos) << *failure;
  EXPECT_NE(failure->find("boom"), std::string::npos) << *failure;
  for (const auto& trace : traces) {
    for (const auto& t : trace) {
      for (int dep : jobs[t.job].depends_on) EXPECT_NE(dep, victim) << jobs[t.job].name << " ran after a failed dependency";
    }
  }
}

}  // namespace
}  // namespace ganleaks::runner
