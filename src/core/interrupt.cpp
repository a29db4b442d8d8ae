#include "core/interrupt.h"

#include <atomic>
#include <csignal>

#include <unistd.h>

namespace ganleaks {
namespace {

std::atomic<bool> requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

// The first signal asks; a second one, while the run is still stopping, ends it at once (_exit is async-signal-safe).
extern "C" void on_interrupt_signal(int) {
  if (requested.exchange(true, std::memory_order_relaxed)) _exit(kExitInterrupted);
}

}  // namespace

void install_interrupt_handlers(OnSignal on_signal) {
  struct sigaction action {};
  action.sa_handler = on_signal == OnSignal::kStopResumably ? on_interrupt_signal : SIG_DFL;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking calls (MPI, file I/O) go on; the flag is read at step boundaries
  for (const int signal : {SIGUSR2, SIGTERM, SIGINT}) sigaction(signal, &action, nullptr);
}

bool interrupt_requested() { return requested.load(std::memory_order_relaxed); }

void request_interrupt() { requested.store(true, std::memory_order_relaxed); }

}  // namespace ganleaks
