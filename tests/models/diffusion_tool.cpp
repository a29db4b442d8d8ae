// Test-only driver of models/diffusion_schedule.h for tests/models/check_diffusion_schedule.py: reads cases as
// whitespace-separated text on stdin, prints one line per case with 17 significant digits. A schedule is
// `linear|cosine T beta_start beta_end`, or `given T β_0 .. β_{T−1}`. Cases:
//   schedule SCHEDULE                                   β_0 .. β_{T−1} ᾱ_0 .. ᾱ_{T−1}
//   noised SCHEDULE t n x0_1 .. x0_n eps_1 .. eps_n      q(x_t | x_0) with that noise
//   ddpm SCHEDULE t clip n x_1 .. x_n eps_1 .. z_1 ..    one DDPM step from t
//   ddim SCHEDULE t t_next eta clip n x.. eps.. z..      one DDIM step from t to t_next
//   timesteps T count                                   DDIM's timesteps
// Bad input: a one-line message on stderr, exit status 2.
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/diffusion_schedule.h"

#include <utility>

namespace {

using namespace ganleaks::models;

double number(const char* what) {
  double x = 0;
  if (!(std::cin >> x)) throw std::runtime_error(std::string("expected a number: ") + what);
  return x;
}
std::vector<double> numbers(int n, const char* what) {
  std::vector<double> out(static_cast<std::size_t>(n));
  for (auto& x : out) x = number(what);
  return out;
}
NoiseSchedule schedule() {
  std::string kind;
  if (!(std::cin >> kind)) throw std::runtime_error("expected a schedule");
  const int steps = static_cast<int>(number("T"));
  if (kind == "given") return NoiseSchedule(numbers(steps, "beta"));
  const double start = number("beta_start"), end = number("beta_end");
  return NoiseSchedule(beta_schedule_named(kind), steps, start, end);
}
void print(const std::vector<double>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) std::printf(i ? " %.17g" : "%.17g", values[i]);
  std::printf("\n");
}

}  // namespace

int main() {
  try {
    std::string what;
    while (std::cin >> what) {
      std::vector<double> out;
      if (what == "schedule") {
        const auto s = schedule();
        for (int t = 0; t < s.steps(); ++t) out.push_back(s.beta(t));
        for (int t = 0; t < s.steps(); ++t) out.push_back(s.alpha_bar(t));
      } else if (what == "noised") {
        const auto s = schedule();
        const int t = static_cast<int>(number("t")), n = static_cast<int>(number("n"));
        const auto x0 = numbers(n, "x0"), eps = numbers(n, "eps");
        for (int i = 0; i < n; ++i) out.push_back(noised(s, t, x0[i], eps[i]));
      } else if (what == "ddpm" || what == "ddim") {
        const auto s = schedule();
        const int t = static_cast<int>(number("t"));
        const int t_next = what == "ddim" ? static_cast<int>(number("t_next")) : t - 1;
        const double eta = what == "ddim" ? number("eta") : 1.0;
        const bool clip = number("clip") != 0;
        const int n = static_cast<int>(number("n"));
        const auto x = numbers(n, "x"), eps = numbers(n, "eps"), z = numbers(n, "z");
        for (int i = 0; i < n; ++i) {
          out.push_back(what == "ddpm" ? ddpm_step(s, t, x[i], eps[i], z[i], clip)
                                       : ddim_step(s, t, t_next, x[i], eps[i], eta, z[i], clip));
        }
      } else if (what == "timesteps") {
        const int steps = static_cast<int>(number("T")), count = static_cast<int>(number("count"));
        for (const int t : ddim_timesteps(steps, count)) out.push_back(t);
      } else {
        throw std::runtime_error("unknown case '" + what + "'");
      }
      print(out);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "diffusion_tool: %s\n", e.what());
    return 2;
  }
}
