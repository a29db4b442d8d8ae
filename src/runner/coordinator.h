#pragma once
// Rank 0 hands out the job graph. A one-rank job goes to one free rank (or training group); a collective job
// is handed to every rank, and rank 0 joins it last, after all others have it, so that nobody waits in a
// collective for a rank that is waiting for rank 0. Rank 0 works too: it answers requests between its own
// training steps (serve_pending) and while it has nothing to do.
#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dist/comm.h"
#include "runner/messages.h"

namespace ganleaks::runner {

class Coordinator {
 public:
  // done[i]: job i finished in an earlier run (its output exists) and is skipped.
  Coordinator(std::vector<Job> jobs, std::vector<bool> done, const dist::Comm& channel,
              std::function<void(const JobReport&, const Job&)> on_finished = {});

  std::optional<Job> next_for_root();          // blocks (serving others) until rank 0 has a job; nullopt: stop
  void finished_on_root(const JobReport& report);
  void serve_pending();                        // answers whatever requests are waiting, never blocks
  void drain();                                // after rank 0's last job: serve until every worker stopped

  // The first failure, if any: "job <name> failed on rank <r> (<host>): <error>".
  const std::optional<std::string>& failure() const { return failure_; }
  // Whether that failure was bad input or a machine's state (JobReport::bad_input): the run ends with exit 2.
  bool failure_is_bad_input() const { return failure_bad_input_; }
  // A signal stopped the run (core/interrupt.h): no job is handed out after it, the ones cut short stay undone.
  bool interrupted() const { return interrupted_; }
  int jobs_done() const { return done_count_; }
  int jobs_running() const { return static_cast<int>(std::ranges::count(state_, State::kRunning)); }
  int jobs_total() const { return static_cast<int>(jobs_.size()); }

 private:
  enum class State { kPending, kRunning, kDone, kFailed };
  static constexpr int kWait = -1, kStop = -2;

  int pick(int rank);                 // a job id, kWait or kStop
  void handle(const dist::Message& message);
  void record(const JobReport& report);
  void assign_waiting();
  void send(int rank, int job);
  bool ready(const Job& job) const;
  bool handed_to_all(int job) const;

  std::vector<Job> jobs_;
  std::vector<State> state_;
  std::vector<std::set<int>> handed_;   // ranks a job was handed to
  std::vector<std::set<int>> finished_by_;
  const dist::Comm& channel_;
  std::function<void(const JobReport&, const Job&)> on_finished_;
  int open_collective_ = -1;           // collective job not yet handed to every rank
  std::vector<int> waiting_;           // ranks told nothing yet, waiting for work to become ready
  int stopped_workers_ = 0;
  int done_count_ = 0;
  std::optional<std::string> failure_;
  bool failure_bad_input_ = false;
  bool interrupted_ = false;
};

// A non-root rank's loop: ask rank 0 for work, run it, report, until told to stop.
void run_worker(const dist::Comm& channel, const std::function<JobReport(const Job&)>& run_job);

// Data-parallel groups (experiment.ranks_per_run > 1): only a group's rank 0 talks to the coordinator; it
// relays every job it gets, and finally the stop (nullopt), to the other ranks of its group, which run it
// with it. Collective over `group`; nothing to do for a group of one.
void relay_to_group(const dist::Comm& group, const std::optional<Job>& job);
std::optional<Job> receive_from_group_leader(const dist::Comm& group);

}  // namespace ganleaks::runner
