#pragma once
// A run asked to stop early and resumably: SIGUSR2 (Slurm's --signal=B:USR2@<seconds> before a time limit,
// forwarded to the ranks by the batch script), SIGTERM (scancel, a requeue, a preemption) or SIGINT (Ctrl-C). The handler only
// sets a flag; training loops look at it between steps, checkpoint and stop, the coordinator hands out no new
// jobs, and `ganleaks run` exits with kExitInterrupted so that the batch script can requeue. (SIGUSR1 is left
// alone: NCCL 2.13 captured it, HPC.md.)
namespace ganleaks {

inline constexpr int kExitInterrupted = 75;  // EX_TEMPFAIL: nothing is wrong; rerun to resume

// What a signal does to this process.
enum class OnSignal {
  // `ganleaks run`: SIGUSR2, SIGTERM and SIGINT set the flag below (training checkpoints, no new job starts, exit
  // 75); a second one ends the process at once, with exit code 75 (committed files are whole: nothing is lost).
  kStopResumably,
  // Every other subcommand: SIGUSR2, SIGTERM and SIGINT end the process at once (their default action).
  kExit,
};
// Once, in main, after MPI_Init (so that ours are the handlers in place).
void install_interrupt_handlers(OnSignal on_signal = OnSignal::kStopResumably);
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
