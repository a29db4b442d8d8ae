#include "core/interrupt.h"

#include <atomic>
#include <csignal>

namespace ganleaks {
namespace {

std::atomic<bool> requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_interrupt_signal(int) { requested.store(true, std::memory_order_relaxed); }

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_interrupt_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking calls (MPI, file I/O) go on; the flag is read at step boundaries
  sigaction(SIGUSR2, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupt_requested() { return requested.load(std::memory_order_relaxed); }

void request_interrupt() { requested.store(true, std::memory_order_relaxed); }

}  // namespace ganleaks
