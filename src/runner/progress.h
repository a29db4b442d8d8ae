#pragma once
// Rank 0's view of a sweep while it runs: jobs done, running and left, and an ETA, logged after every finished
// job and, when stderr is a terminal, drawn as a progress bar.
#include <chrono>
#include <cstdint>
#include <string>

namespace ganleaks::runner {

class Progress {
 public:
  // `total` jobs to run in this process (a slice's), `already` of them done by earlier runs.
  Progress(std::int64_t total, std::int64_t already);

  // After a job finished: the line for the log ("12/31 done, 2 running, 17 left, ETA 5 min 10 s").
  std::string update(std::int64_t done, std::int64_t running);
  // The same as a bar, "[##########..........] 12/31 ..." (width characters of bar).
  std::string bar(int width = 30) const;

  // ETA from the time per job finished in this run, spread over the jobs still running or left.
  static std::string duration(double seconds);

 private:
  std::int64_t total_, already_, done_ = 0, running_ = 0;
  std::chrono::steady_clock::time_point start_;
  double eta_ = -1;
};

}  // namespace ganleaks::runner
