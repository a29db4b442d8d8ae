#pragma once
// Runs one job of a task on this rank and says how it went (runner/job.h's JobReport).
#include <functional>

#include "runner/job.h"
#include "runner/task.h"

namespace ganleaks::runner {

// A failure in a job of a group of one is returned in the report (the run stops after the other ranks finished
// what they do; a UserError, such as a full disk, is marked as bad input); a failure inside a collective job, or a job of a larger group, is thrown: the other ranks are
// inside its collectives, and only ending the job (MPI_Abort) frees them. A job stopped by a signal is reported
// interrupted: it saved its progress and stays undone.
JobReport run_job(Task& task, const Job& job, const RunContext& context, const std::function<void()>& between_steps = {});

}  // namespace ganleaks::runner
