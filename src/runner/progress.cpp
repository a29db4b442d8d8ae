#include "runner/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ganleaks::runner {

Progress::Progress(std::int64_t total, std::int64_t already)
    : total_(total), already_(already), done_(already), start_(std::chrono::steady_clock::now()) {}

std::string Progress::duration(double seconds) {
  if (seconds < 0) return "unknown";
  const auto s = static_cast<std::int64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
  return fmt::format("{} h {} min", s / 3600, (s % 3600) / 60);
}

std::string Progress::update(std::int64_t done, std::int64_t running) {
  done_ = done;
  running_ = running;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const auto finished_here = done_ - already_;
  // Jobs finish in parallel: elapsed time per finished job already includes the ranks' concurrency.
  eta_ = finished_here > 0 ? elapsed / static_cast<double>(finished_here) * static_cast<double>(total_ - done_) : -1;
  return fmt::format("{}/{} done, {} running, {} left, ETA {}", done_, total_, running_, total_ - done_ - running_,
                     duration(eta_));
}

std::string Progress::bar(int width) const {
  const auto filled = total_ > 0 ? static_cast<int>(width * done_ / total_) : width;
  return fmt::format("[{}{}] {}/{} jobs, {} running, ETA {}", std::string(static_cast<std::size_t>(filled), '#'),
                     std::string(static_cast<std::size_t>(std::max(0, width - filled)), '.'), done_, total_, running_,
                     duration(eta_));
}

}  // namespace ganleaks::runner
