#include "runner/coordinator.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/interrupt.h"
#include "dist/collectives.h"

namespace ganleaks::runner {

Coordinator::Coordinator(std::vector<Job> jobs, std::vector<bool> done, const dist::Comm& channel,
                         std::function<void(const JobReport&, const Job&)> on_finished)
    : jobs_(std::move(jobs)),
      state_(jobs_.size(), State::kPending),
      handed_(jobs_.size()),
      finished_by_(jobs_.size()),
      channel_(channel),
      on_finished_(std::move(on_finished)) {
  for (std::size_t i = 0; i < jobs_.size() && i < done.size(); ++i) {
    if (done[i]) {
      state_[i] = State::kDone;
      ++done_count_;
    }
  }
}

bool Coordinator::ready(const Job& job) const {
  return std::all_of(job.depends_on.begin(), job.depends_on.end(),
                     [&](int dep) { return state_[dep] == State::kDone; });
}

bool Coordinator::handed_to_all(int job) const {
  return static_cast<int>(handed_[job].size()) == channel_.size();
}

int Coordinator::pick(int rank) {
  // An open collective is finished first, even after a failure: ranks already inside it need the rest.
  if (open_collective_ >= 0 && !handed_[open_collective_].contains(rank)) return open_collective_;
  if (interrupt_requested()) interrupted_ = true;
  if (failure_ || interrupted_) return kStop;
  for (const auto& job : jobs_) {
    if (!job.collective && state_[job.id] == State::kPending && ready(job)) return job.id;
  }
  if (open_collective_ < 0) {
    for (const auto& job : jobs_) {
      if (job.collective && state_[job.id] == State::kPending && ready(job)) return job.id;
    }
  }
  const bool all_done =
      std::all_of(state_.begin(), state_.end(), [](State s) { return s == State::kDone; });
  return all_done ? kStop : kWait;
}

void Coordinator::send(int rank, int job) {
  Assignment assignment;
  if (job == kStop) {
    assignment.stop = true;
    ++stopped_workers_;
  } else {
    assignment.job = jobs_[job];
  }
  channel_.send(dist::to_bytes(assignment), rank, kTagAssign);
}

namespace {
void hand(std::vector<std::set<int>>& handed, int job, int rank) { handed[job].insert(rank); }
}  // namespace

void Coordinator::handle(const dist::Message& message) {
  const auto request = dist::from_bytes<Request>(message.payload);
  if (request.finished.job_id >= 0) record(request.finished);
  waiting_.push_back(message.source);
  assign_waiting();
}

void Coordinator::assign_waiting() {
  std::vector<int> still_waiting;
  for (int rank : waiting_) {
    const int job = pick(rank);
    if (job == kWait) {
      still_waiting.push_back(rank);
      continue;
    }
    if (job != kStop) {
      hand(handed_, job, rank);
      state_[job] = State::kRunning;
      if (jobs_[job].collective) open_collective_ = handed_to_all(job) ? -1 : job;
    }
    send(rank, job);
  }
  waiting_ = std::move(still_waiting);
}

void Coordinator::record(const JobReport& report) {
  const auto& job = jobs_.at(report.job_id);
  if (report.interrupted) {
    state_[job.id] = State::kPending;  // its checkpoint is on disk; a rerun resumes it
    interrupted_ = true;
    return;
  }
  if (!report.ok) {
    state_[job.id] = State::kFailed;
    if (!failure_) {
      failure_ = fmt::format("job {} failed on rank {} ({}): {}", job.name, report.rank, report.host, report.error);
      failure_bad_input_ = report.bad_input;
    }
    return;
  }
  if (job.collective) {
    finished_by_[job.id].insert(report.rank);
    if (static_cast<int>(finished_by_[job.id].size()) < channel_.size()) return;
  }
  state_[job.id] = State::kDone;
  ++done_count_;
  if (on_finished_) on_finished_(report, job);
}

std::optional<Job> Coordinator::next_for_root() {
  serve_pending();  // workers that asked while rank 0 was busy choose first: rank 0 can serve between its steps
  while (true) {
    const int job = pick(0);
    if (job == kStop) return std::nullopt;
    if (job == kWait) {
      handle(channel_.receive(-1, kTagRequest));
      continue;
    }
    hand(handed_, job, 0);
    state_[job] = State::kRunning;
    if (jobs_[job].collective) {
      // Rank 0 joins a collective last: first every other rank must have been handed it.
      open_collective_ = handed_to_all(job) ? -1 : job;
      assign_waiting();
      while (!handed_to_all(job)) handle(channel_.receive(-1, kTagRequest));
      // Handing it out may have opened the next collective for ranks already done with this one (a collective can
      // end early on a worker: a gather to rank 0 returns once sent): that one stays open.
      if (open_collective_ == job) open_collective_ = -1;
    }
    return jobs_[job];
  }
}

void Coordinator::finished_on_root(const JobReport& report) {
  record(report);
  assign_waiting();
}

void Coordinator::serve_pending() {
  while (auto message = channel_.try_receive(kTagRequest)) handle(*message);
}

void Coordinator::drain() {
  assign_waiting();
  while (stopped_workers_ < channel_.size() - 1) handle(channel_.receive(-1, kTagRequest));
}

void run_worker(const dist::Comm& channel, const std::function<JobReport(const Job&)>& run_job) {
  Request request;
  while (true) {
    channel.send(dist::to_bytes(request), 0, kTagRequest);
    const auto reply = channel.receive(0, kTagAssign);
    const auto assignment = dist::from_bytes<Assignment>(reply.payload);
    if (assignment.stop) return;
    request.finished = run_job(assignment.job);
  }
}

void relay_to_group(const dist::Comm& group, const std::optional<Job>& job) {
  if (group.size() == 1) return;
  dist::broadcast_value(group, Assignment{.stop = !job.has_value(), .job = job.value_or(Job{})}, 0);
}

std::optional<Job> receive_from_group_leader(const dist::Comm& group) {
  auto assignment = dist::broadcast_value(group, Assignment{}, 0);
  if (assignment.stop) return std::nullopt;
  return std::move(assignment.job);
}

}  // namespace ganleaks::runner
