#include "privacy/dp_sgd.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/module.h>
#include <torch/torch.h>
#include <sys/random.h>

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <set>
#include <sstream>
#include <stdexcept>

#include "dist/device.h"

namespace ganleaks::privacy {

PoissonSampler::PoissonSampler(std::int64_t records, double sample_rate, std::uint64_t seed)
    : records_(records), sample_rate_(sample_rate), rng_(seed) {
  if (records < 0 || !(sample_rate > 0 && sample_rate <= 1)) {
    throw std::invalid_argument(fmt::format("PoissonSampler: need records >= 0 and 0 < q <= 1, got {} and {}",
                                            records, sample_rate));
  }
}

std::vector<std::int64_t> PoissonSampler::next() {
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < records_; ++i) {
    const double u = static_cast<double>(rng_.next() >> 11) * 0x1.0p-53;  // uniform in [0, 1), 53 bits
    if (u < sample_rate_) rows.push_back(i);
  }
  return rows;
}

std::string PoissonSampler::state() const {
  std::ostringstream s;
  s << rng_.engine();
  return s.str();
}

void PoissonSampler::restore(const std::string& text) {
  std::istringstream s(text);
  s >> rng_.engine();
  if (s.fail()) throw std::runtime_error("checkpoint: corrupt Poisson-sampler state");
}

NoiseSource NoiseSource::seeded(std::uint64_t seed) {
  NoiseSource source;
  source.generator_ = at::make_generator<at::CPUGeneratorImpl>(seed);
  return source;
}

NoiseSource NoiseSource::secure() { return NoiseSource(); }

namespace {
double secure_uniform_open() {  // in (0, 1]
  std::uint64_t bits = 0;
  auto* out = reinterpret_cast<char*>(&bits);
  std::size_t got = 0;
  while (got < sizeof bits) {
    const auto n = ::getrandom(out + got, sizeof bits - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("secure noise: getrandom(2) failed");
    }
    got += static_cast<std::size_t>(n);
  }
  return (static_cast<double>(bits >> 11) + 1) * 0x1.0p-53;
}
double secure_standard_normal() {
  return std::sqrt(-2 * std::log(secure_uniform_open())) * std::cos(2 * std::numbers::pi * secure_uniform_open());
}
}  // namespace

at::Tensor NoiseSource::normal(at::IntArrayRef shape, double stddev, const at::TensorOptions& options) {
  // Drawn on the CPU (the seeded stream is a CPU generator), then moved: the same noise on every device.
  if (generator_.defined()) return at::normal(0.0, stddev, shape, generator_, options.device(at::kCPU)).to(options.device());
  // host: getrandom fills host memory; moved to the gradients' device below.
  auto values = torch::empty(shape, torch::kFloat64);
  auto* data = values.data_ptr<double>();
  for (std::int64_t i = 0; i < values.numel(); ++i) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum += secure_standard_normal();
    data[i] = stddev * sum / 2;  // the sum of four N(0, 1) has variance 4
  }
  return values.to(options);
}

DpSgdStats dp_sgd_gradients(const std::vector<PerSampleLayer*>& layers, const DpSgdStep& step, NoiseSource& noise,
                            bool adds_noise, const std::function<void(std::vector<at::Tensor>&)>& all_reduce_sum) {
  torch::NoGradGuard no_grad;
  if (layers.empty()) throw std::logic_error("DP-SGD: no per-sample layers");
  // Flat clipping: one norm per sample over every parameter, factor min(1, C / norm).
  torch::Tensor squared;
  for (auto* layer : layers) {
    if (!layer->captured()) throw std::logic_error("DP-SGD: a layer captured no per-sample gradients");
    squared = squared.defined() ? squared + layer->squared_norms() : layer->squared_norms();
  }
  const auto batch = squared.size(0);
  const auto norms = squared.sqrt();
  const auto factor = (step.max_grad_norm / (norms + 1e-6)).clamp_max(1.0);

  std::vector<torch::Tensor> params, sums;
  for (auto* layer : layers) {
    auto layer_sums = layer->clipped_sums(factor);  // Σ_i factor_i · g_i per parameter
    layer->clear_grad_samples();
    for (auto& param : layer->per_sample_parameters()) params.push_back(param);
    for (auto& sum : layer_sums) {
      if (adds_noise) sum += noise.normal(sum.sizes(), step.noise_multiplier * step.max_grad_norm, sum.options());
      sums.push_back(std::move(sum));
    }
  }
  all_reduce_sum(sums);
  for (std::size_t i = 0; i < params.size(); ++i) {
    params[i].mutable_grad() = (sums[i] / step.expected_batch_size).to(params[i].scalar_type());  // bf16 samples
  }
  DpSgdStats stats;
  stats.samples = batch;
  if (batch > 0) stats.clipped_fraction = dist::host_double((norms > step.max_grad_norm).to(torch::kFloat64).mean());
  return stats;
}

void check_dp_compatible(torch::nn::Module& module, const std::string& what) {
  std::set<const void*> covered;
  for (auto* layer : per_sample_layers(module)) {
    for (const auto& param : layer->per_sample_parameters()) covered.insert(param.unsafeGetTensorImpl());
  }
  for (const auto& p : module.named_parameters()) {
    if (p.value().requires_grad() && !covered.count(p.value().unsafeGetTensorImpl())) {
      throw std::invalid_argument(fmt::format(
          "{}: parameter '{}' is not in a per-sample layer, so DP-SGD cannot clip its gradient "
          "(privacy/grad_sample.h lists the supported layers)", what, p.key()));
    }
  }
}

}  // namespace ganleaks::privacy
