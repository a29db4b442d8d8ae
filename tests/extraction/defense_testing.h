#pragma once
// What the defense tests (test_defenses.cpp, test_adversarial.cpp) share: seeded test images, distances, and the
// messages bad input is refused with.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace ganleaks::extraction::test_support {

using ::testing::HasSubstr;

inline at::Generator seeded(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

inline double mse(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).square().mean().item<double>();
}

inline double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

// Smooth images in [-0.8, 0.8]: a few low-frequency waves per image and channel.
inline at::Tensor smooth_images(std::int64_t b, std::int64_t c, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  auto gen = seeded(seed);
  const auto phase = torch::rand({b, c, 1, 1}, gen) * 6.28, freq = torch::rand({b, c, 1, 1}, gen) * 0.3 + 0.05;
  const auto rows = torch::arange(h, torch::kFloat).view({1, 1, h, 1});
  const auto cols = torch::arange(w, torch::kFloat).view({1, 1, 1, w});
  return 0.5 * torch::sin(freq * rows + phase) * torch::cos(0.7 * freq * cols - phase) + 0.3 * torch::cos(freq * cols);
}

inline at::Tensor random_images(std::int64_t b, std::int64_t c, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  auto gen = seeded(seed);
  return torch::rand({b, c, h, w}, gen) * 1.8 - 0.9;
}

template <class F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no std::invalid_argument";
}

template <class F>
std::string torch_error_of(F&& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "no c10::Error";
}

// Strength grows -> the distortion (MSE to the input) grows.
template <class F>
void expect_distortion_grows(const at::Tensor& input, const std::vector<double>& strengths, F&& defend) {
  double previous = 0;
  for (const double s : strengths) {
    const double d = mse(defend(s), input);
    EXPECT_GT(d, previous) << "strength " << s;
    previous = d;
  }
}

struct LinearScores {
  at::Tensor latents, scores, w;
};

// Latents z ~ N(0, I) whose score is w·z plus Gaussian noise.
inline LinearScores linear_scores(std::int64_t n, std::int64_t z_dim, double noise, std::uint64_t seed) {
  auto gen = seeded(seed);
  LinearScores out;
  out.latents = torch::randn({n, z_dim}, gen);
  out.w = torch::randn({z_dim}, gen);
  out.scores = out.latents.matmul(out.w) + noise * torch::randn({n}, gen);
  return out;
}

}  // namespace ganleaks::extraction::test_support
