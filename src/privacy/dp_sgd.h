#pragma once
// The DP-SGD step of SPEC §2 (Abadi et al. 2016) over the per-sample layers of grad_sample.h: each sample's
// gradient, flattened over all layers, is clipped to L2 norm C; the clipped gradients are summed (and summed
// over the ranks of a data-parallel group); one draw of N(0, σ²C²) per coordinate is added, once per step;
// the result is divided by the expected batch size and becomes the parameters' .grad for the optimiser.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/seeding.h"
#include "privacy/grad_sample.h"

namespace ganleaks::privacy {

// Poisson sampling (SPEC §2): every record joins a step's batch independently with probability q, so the
// batch size varies and may be 0. Platform-independent (core/seeding.h); its state checkpoints as text.
class PoissonSampler {
 public:
  PoissonSampler(std::int64_t records, double sample_rate, std::uint64_t seed);
  std::vector<std::int64_t> next();
  std::string state() const;
  void restore(const std::string& text);

 private:
  std::int64_t records_;
  double sample_rate_;
  Rng rng_;
};

// Gaussian noise for the step: a seeded LibTorch generator (reproducible, checkpointed), or a
// cryptographically secure source (getrandom(2), Box-Muller in float64, each value the mean of four
// draws scaled back as Opacus's secure mode does against floating-point attacks; never reproducible).
class NoiseSource {
 public:
  static NoiseSource seeded(std::uint64_t seed);
  static NoiseSource secure();
  at::Tensor normal(at::IntArrayRef shape, double stddev, const at::TensorOptions& options);
  bool secure_source() const { return !generator_.defined(); }
  at::Generator& generator() { return generator_; }  // seeded only: its state goes into checkpoints

 private:
  at::Generator generator_;
};

struct DpSgdStep {
  double max_grad_norm = 1.0;     // C
  double noise_multiplier = 1.0;  // σ
  double expected_batch_size = 1; // qN (rows of the step's forward, in expectation)
};

struct DpSgdStats {
  std::int64_t samples = 0;     // rows that contributed (this rank)
  double clipped_fraction = 0;  // of those, the share whose norm exceeded C
};

// Sums, per parameter of `layers`, the per-sample gradients clipped to max_grad_norm (flat clipping over
// all layers), from what each layer's captured backward kept (Clipping in grad_sample.h); then
// `all_reduce_sum` (identity on one rank) adds the group's sums in place; the rank with adds_noise = true adds
// the noise before the reduction, so the group's total carries exactly one draw.
// Finally sets every parameter's .grad to (sum + noise) / expected_batch_size and clears the samples.
// Throws if a layer captured nothing (the forward did not run with capture on).
DpSgdStats dp_sgd_gradients(const std::vector<PerSampleLayer*>& layers, const DpSgdStep& step, NoiseSource& noise,
                            bool adds_noise, const std::function<void(std::vector<at::Tensor>&)>& all_reduce_sum);

// Throws std::invalid_argument naming the first trainable parameter of `module` that no per-sample layer
// covers (DP-SGD would leave it unclipped).
void check_dp_compatible(torch::nn::Module& module, const std::string& what);

}  // namespace ganleaks::privacy
