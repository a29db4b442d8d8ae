// The coordinator's protocol on real Open MPI ranks, with jobs that only record what ran where: every
// training job runs exactly once, every rank runs every attack (collective) job in the same order, no job
// starts before its dependencies finished, finished jobs are skipped, a failure is reported by name.
#include "runner/coordinator.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <thread>

#include "dist/collectives.h"
#include "runner/messages.h"

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

// The shape of a membership sweep: per seed a reference model and three victims (one-rank jobs), and two
// collective attacks per victim that need it and the reference.
std::vector<Job> test_plan() {
  std::vector<Job> jobs;
  const auto add = [&](Job job) {
    job.id = static_cast<int>(jobs.size());
    jobs.push_back(std::move(job));
    return jobs.back().id;
  };
  for (int seed : {0, 1}) {
    const int reference = add({.name = fmt::format("reference-s{}", seed), .kind = "train", .shared = true});
    for (int n : {16, 32, 64}) {
      const int victim = add({.name = fmt::format("victim-n{}-s{}", n, seed), .kind = "train"});
      for (const char* setting : {"fbb", "dis"}) {
        add({.name = fmt::format("{}-n{}-s{}", setting, n, seed), .kind = "attack", .collective = true,
             .depends_on = {victim, reference}});
      }
    }
  }
  return jobs;
}

// Runs the plan over the world with a fake job body; returns every rank's trace on rank 0.
// With `eager`, a collective job ends on the workers without waiting for rank 0 (as a gather to rank 0 does once
// its message is sent), so that workers ask for more while rank 0 has not yet joined; and rank 0's one-rank jobs are
// long and answer requests between their steps, as training does, while the workers' are short.
std::vector<std::vector<Trace>> run_plan(const std::vector<Job>& jobs, std::vector<bool> done, int fail_job,
                                         std::optional<std::string>* failure, bool eager = false) {
  const auto world = dist::Comm::world();
  const auto channel = world.duplicate();
  std::vector<Trace> trace;
  Coordinator* coordinator = nullptr;  // rank 0's, for its jobs to serve between steps
  auto body = [&](const Job& job) {
    Trace t{job.id, now(), 0};
    if (job.collective && eager) {
      if (world.is_root()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } else if (job.collective) {
      // A real collective: it would deadlock if ranks disagreed on the order of collective jobs.
      std::vector<std::int64_t> id{job.id};
      world.all_reduce(std::span(id), dist::ReduceOp::kMax);
      EXPECT_EQ(id[0], job.id) << "ranks entered different collective jobs";
    } else if (eager && coordinator) {
      for (int step = 0; step < 10; ++step) {
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        coordinator->serve_pending();
      }
    } else if (!eager) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + 3 * (job.id % 4)));
    }
    t.end = now();
    trace.push_back(t);
    JobReport report{.job_id = job.id, .ok = job.id != fail_job, .error = "boom", .rank = world.rank(), .host = "h"};
    return report;
  };
  if (world.is_root()) {
    Coordinator root(jobs, done, channel);
    coordinator = &root;
    while (auto job = root.next_for_root()) root.finished_on_root(body(*job));
    root.drain();
    *failure = root.failure();
  } else {
    run_worker(channel, body);
  }
  return dist::gather_values(world, trace, 0);
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
      if (jobs[t.job].collective) {
        order.push_back(t.job);
      } else {
        ++train_runs[t.job];
      }
    }
    if (r == 0) collective_order = order;
    EXPECT_EQ(order, collective_order) << "rank " << r << " ran collective jobs in another order";
  }
  for (const auto& job : jobs) {
    if (!job.collective) EXPECT_EQ(train_runs[job.id], 1) << job.name;
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

// Workers that finish a collective before rank 0 joins it ask for the next one; handing it to them must leave it
// open for rank 0 (it was lost once, and every rank waited for the others).
TEST(Coordinator, CollectivesThatEndEarlyOnWorkersAreAllRun) {
  const auto jobs = test_plan();
  std::optional<std::string> failure;
  const auto traces = run_plan(jobs, {}, -1, &failure, /*eager=*/true);
  const auto world = dist::Comm::world();
  if (!world.is_root()) return;
  EXPECT_FALSE(failure.has_value());
  std::map<int, int> runs;
  for (const auto& trace : traces) {
    for (const auto& t : trace) ++runs[t.job];
  }
  for (const auto& job : jobs) EXPECT_EQ(runs[job.id], job.collective ? world.size() : 1) << job.name;
}

TEST(Coordinator, SkipsJobsAlreadyDone) {
  const auto jobs = test_plan();
  std::vector<bool> done(jobs.size(), false);
  for (const auto& job : jobs) done[job.id] = !job.collective || job.name.ends_with("-s0");  // only seed 1's attacks left
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
