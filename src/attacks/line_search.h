#pragma once
// One-dimensional minimisation of phi(t) = f(x + t u) for Powell's method, the way scipy's `Powell` (the
// GAN-Leaks reference code's `pbb` optimiser) does it without bounds: bracket a minimum by golden-ratio
// expansion from t = 0 and t = 1 with parabolic extrapolation (Numerical Recipes `mnbrak`; scipy `bracket`,
// growth limit 110), then Brent's method (parabolic interpolation safeguarded by golden sections; Brent 1973,
// Numerical Recipes `brent`; scipy `Brent`) until the bracket is within tol * |t| + 1e-11.
//
// The search is a coroutine: it asks for phi at one step at a time and is resumed with the value, so that a
// batch of queries, each with its own search, can have all their requests evaluated in one generator call
// (attacks/latent_search.cpp). The number of evaluations differs per query, as in scipy.
#include <coroutine>
#include <exception>
#include <utility>

namespace ganleaks::attacks {

class BrentLineSearch {
 public:
  struct promise_type {
    double step = 0;                       // the t whose phi(t) the search waits for
    std::pair<double, double> best{0, 0};  // (t*, phi(t*)) once done
    std::exception_ptr error;
    BrentLineSearch get_return_object() { return BrentLineSearch(Handle::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(double t) noexcept {
      step = t;
      return {};
    }
    void return_value(std::pair<double, double> result) noexcept { best = result; }
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  BrentLineSearch(BrentLineSearch&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  BrentLineSearch& operator=(BrentLineSearch&&) = delete;
  BrentLineSearch(const BrentLineSearch&) = delete;
  ~BrentLineSearch() {
    if (handle_) handle_.destroy();
  }

  // Runs the search up to its next request; false once it has finished (then best() holds the result).
  bool advance() {
    handle_.resume();
    if (handle_.promise().error) std::rethrow_exception(handle_.promise().error);
    return !handle_.done();
  }
  double step() const { return handle_.promise().step; }  // the pending request
  std::pair<double, double> best() const { return handle_.promise().best; }

 private:
  explicit BrentLineSearch(Handle handle) : handle_(handle) {}
  Handle handle_;
};

// A search for the minimum of phi with phi(0) = phi0 already known (so, unlike scipy, 0 is not evaluated again).
// Before each resume the caller stores phi(step()) in *value. Result: the lowest point evaluated (never above
// phi0). `relative_tolerance`: scipy's Powell passes xtol * 100 = 1e-2.
BrentLineSearch brent_line_search(double phi0, const double* value, double relative_tolerance = 1e-2,
                                  int max_iterations = 500);

}  // namespace ganleaks::attacks
