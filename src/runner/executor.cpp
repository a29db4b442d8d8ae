#include "runner/executor.h"

#include <fmt/format.h>

#include <chrono>

#include "core/errors.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "dist/comm.h"

namespace ganleaks::runner {

JobReport run_job(Task& task, const Job& job, const RunContext& context, const std::function<void()>& between_steps) {
  JobReport report{.job_id = job.id, .rank = context.world.rank(), .host = dist::host_name()};
  const auto start = std::chrono::steady_clock::now();
  if (job.collective) {
    task.run(job, context, between_steps);  // a failure would leave the other ranks inside it: let it escape
  } else {
    try {
      task.run(job, context, between_steps);
    } catch (const Interrupted&) {
      report.interrupted = true;  // its progress is saved: the next run resumes it
      log::info(fmt::format("job {} interrupted by a signal; progress saved", job.name));
    } catch (const std::exception& e) {
      if (context.group.size() > 1) throw;  // likewise: the group's other ranks are inside its collectives
      report.ok = false;
      report.error = e.what();
      report.bad_input = dynamic_cast<const UserError*>(&e) != nullptr;
      log::error(fmt::format("job {} failed: {}", job.name, e.what()));
    }
  }
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace ganleaks::runner
