#pragma once
// The arithmetic of denoising diffusion (Ho et al. 2020; Song et al. 2021, DDIM; Nichol & Dhariwal 2021, the
// cosine schedule): the β schedule, the forward process q(x_t | x_0), the DDPM ancestral step and the DDIM step,
// with ε-prediction. No LibTorch: the steps are templates over the value type, so the same code runs on doubles
// (tests/models/check_diffusion_schedule.py compares it with the diffusers library's DDPMScheduler and
// DDIMScheduler) and on at::Tensor (the DDPM model of the zoo, issue #21).
//
// Conventions are diffusers': timesteps t = 0 .. T − 1, ᾱ_t = ∏_{s ≤ t} (1 − β_s), and "before the first step"
// (t < 0) has ᾱ = 1 (its set_alpha_to_one), so that a chain ends on the predicted clean sample.
#include <algorithm>
#include <cmath>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ganleaks::models {

enum class BetaSchedule {
  kLinear,  // β from beta_start to beta_end evenly (Ho et al.: 1e-4 to 0.02 over T = 1000)
  kCosine   // β_t = min(1 − ᾱ(t + 1)/ᾱ(t), 0.999), ᾱ(t) = cos²((t/T + 0.008)/1.008 · π/2) (Nichol & Dhariwal)
};
BetaSchedule beta_schedule_named(std::string_view name);  // "linear", "cosine"; std::invalid_argument otherwise

class NoiseSchedule {
 public:
  NoiseSchedule(BetaSchedule kind, int steps, double beta_start = 1e-4, double beta_end = 0.02);
  // Given betas, each in (0, 1): a schedule from elsewhere (a trained model's, another library's).
  explicit NoiseSchedule(std::vector<double> betas);

  int steps() const { return static_cast<int>(beta_.size()); }
  double beta(int t) const { return beta_.at(static_cast<std::size_t>(t)); }
  // ᾱ_t; 1 for t < 0.
  double alpha_bar(int t) const { return t < 0 ? 1.0 : alpha_bar_.at(static_cast<std::size_t>(t)); }

 private:
  std::vector<double> beta_, alpha_bar_;
};

namespace diffusion_detail {
template <class T>
T clip_unit(const T& x) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::clamp(x, T(-1), T(1));
  } else {
    return x.clamp(-1, 1);
  }
}
}  // namespace diffusion_detail

// q(x_t | x_0) drawn with the noise ε: √ᾱ_t x_0 + √(1 − ᾱ_t) ε.
template <class T>
T noised(const NoiseSchedule& s, int t, const T& x0, const T& eps) {
  return x0 * std::sqrt(s.alpha_bar(t)) + eps * std::sqrt(1 - s.alpha_bar(t));
}

// The clean sample that x_t and the predicted noise imply: (x_t − √(1 − ᾱ_t) ε)/√ᾱ_t, clipped to [−1, 1] when
// `clip` (diffusers' clip_sample).
template <class T>
T predicted_x0(const NoiseSchedule& s, int t, const T& x_t, const T& eps, bool clip) {
  const T x0 = (x_t - eps * std::sqrt(1 - s.alpha_bar(t))) / std::sqrt(s.alpha_bar(t));
  return clip ? diffusion_detail::clip_unit(x0) : x0;
}

// The variance of the DDPM posterior q(x_{t'} | x_t, x_0) for t' = t_prev < t: (1 − ᾱ_{t'})/(1 − ᾱ_t) ·
// (1 − ᾱ_t/ᾱ_{t'}) (σ_t² of DDIM at η = 1; 0 when t' < 0).
double posterior_variance(const NoiseSchedule& s, int t, int t_prev);

// One DDPM ancestral step from t to t − 1 with the predicted noise ε and a standard normal draw z: the posterior
// mean √ᾱ_{t−1} β'/(1 − ᾱ_t) · x̂_0 + √(1 − β') (1 − ᾱ_{t−1})/(1 − ᾱ_t) · x_t, β' = 1 − ᾱ_t/ᾱ_{t−1}, plus
// √(posterior variance) · z for t > 0 (at t = 0 the mean alone; the variance at least 1e-20, as diffusers'
// "fixed_small").
template <class T>
T ddpm_step(const NoiseSchedule& s, int t, const T& x_t, const T& eps, const T& z, bool clip) {
  const double a = s.alpha_bar(t), a_prev = s.alpha_bar(t - 1), beta = 1 - a / a_prev;
  const T x0 = predicted_x0(s, t, x_t, eps, clip);
  const T mean = x0 * (std::sqrt(a_prev) * beta / (1 - a)) + x_t * (std::sqrt(1 - beta) * (1 - a_prev) / (1 - a));
  return t > 0 ? mean + z * std::sqrt(std::max(posterior_variance(s, t, t - 1), 1e-20)) : mean;
}

// One DDIM step from t to t_next along the path the predicted noise ε implies: √ᾱ_next x̂_0 +
// √(1 − ᾱ_next − σ²) ε + σ z, σ = η √(posterior variance). Towards the data (t_next < t; t_next < 0 ends the
// chain) it is DDIM's sampler (η = 0 deterministic, η = 1 DDPM-like); away from it (t_next > t, η = 0, no clipping)
// it is the deterministic DDIM inversion that SecMI uses.
template <class T>
T ddim_step(const NoiseSchedule& s, int t, int t_next, const T& x_t, const T& eps, double eta, const T& z, bool clip) {
  const double a_next = s.alpha_bar(t_next);
  const double sigma = eta > 0 && t_next < t ? eta * std::sqrt(posterior_variance(s, t, t_next)) : 0.0;
  const T out = predicted_x0(s, t, x_t, eps, clip) * std::sqrt(a_next) +
                eps * std::sqrt(std::max(1 - a_next - sigma * sigma, 0.0));
  return sigma > 0 ? out + z * sigma : out;
}

// DDIM's timesteps for `count` steps over T (diffusers' "leading" spacing): k · (T / count) for k = count − 1 .. 0,
// each step going to the next lower one (and the last to −1). std::invalid_argument unless 1 <= count <= T.
std::vector<int> ddim_timesteps(int steps, int count);

}  // namespace ganleaks::models
