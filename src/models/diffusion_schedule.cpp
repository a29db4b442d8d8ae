#include "models/diffusion_schedule.h"

#include <numbers>
#include <utility>
#include <stdexcept>
#include <string>

namespace ganleaks::models {

BetaSchedule beta_schedule_named(std::string_view name) {
  if (name == "linear") return BetaSchedule::kLinear;
  if (name == "cosine") return BetaSchedule::kCosine;
  throw std::invalid_argument("unknown β schedule '" + std::string(name) + "' (linear, cosine)");
}

namespace {

std::vector<double> betas_of(BetaSchedule kind, int steps, double beta_start, double beta_end) {
  if (steps < 2) throw std::invalid_argument("NoiseSchedule: at least 2 steps");
  std::vector<double> beta(static_cast<std::size_t>(steps));
  const auto cosine = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * std::numbers::pi / 2), 2); };
  for (int i = 0; i < steps; ++i) {
    beta[static_cast<std::size_t>(i)] =
        kind == BetaSchedule::kLinear ? beta_start + (beta_end - beta_start) * i / (steps - 1)
                                      : std::min(1 - cosine(double(i + 1) / steps) / cosine(double(i) / steps), 0.999);
  }
  return beta;
}

}  // namespace

NoiseSchedule::NoiseSchedule(BetaSchedule kind, int steps, double beta_start, double beta_end)
    : NoiseSchedule(betas_of(kind, steps, beta_start, beta_end)) {}

NoiseSchedule::NoiseSchedule(std::vector<double> betas) : beta_(std::move(betas)) {
  if (beta_.size() < 2) throw std::invalid_argument("NoiseSchedule: at least 2 steps");
  double product = 1;
  for (const double b : beta_) {
    if (!(b > 0 && b < 1)) throw std::invalid_argument("NoiseSchedule: every β in (0, 1)");
    alpha_bar_.push_back(product *= 1 - b);
  }
}

double posterior_variance(const NoiseSchedule& s, int t, int t_prev) {
  const double a = s.alpha_bar(t), a_prev = s.alpha_bar(t_prev);
  return (1 - a_prev) / (1 - a) * (1 - a / a_prev);
}

std::vector<int> ddim_timesteps(int steps, int count) {
  if (count < 1 || count > steps) throw std::invalid_argument("ddim_timesteps: 1 <= count <= steps expected");
  const int ratio = steps / count;
  std::vector<int> out;
  for (int k = count - 1; k >= 0; --k) out.push_back(k * ratio);
  return out;
}

}  // namespace ganleaks::models
