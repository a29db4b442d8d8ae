#pragma once
// A run asked to stop early and resumably: SIGUSR2 (Slurm's --signal=B:USR2@<seconds> before a time limit,
// forwarded to the ranks by the batch script) or SIGTERM (scancel, a requeue, a preemption). The handler only
// sets a flag; training loops look at it between steps, checkpoint and stop, the coordinator hands out no new
// jobs, and `ganleaks run` exits with kExitInterrupted so that the batch script can requeue. (SIGUSR1 is left
// alone: NCCL 2.13 captured it, HPC.md.)
namespace ganleaks {

inline constexpr int kExitInterrupted = 75;  // EX_TEMPFAIL: nothing is wrong; rerun to resume

// Installs the handlers for SIGUSR2 and SIGTERM (once, in main).
void install_interrupt_handlers();
// Whether one of those signals has arrived in this process.
bool interrupt_requested();
// For tests and for ranks told by another rank: behave as if the signal had arrived.
void request_interrupt();

// Thrown where an interrupted run stops; main turns it into kExitInterrupted on every rank.
class Interrupted {
 public:
  explicit Interrupted(const char* where) : where_(where) {}
  const char* what() const { return where_; }

 private:
  const char* where_;
};

}  // namespace ganleaks
