// One discriminator step of the DCGAN discriminator (width 16 and 32, 32×32 images), plain vs DP-SGD
// (flat clipping, noise, Adam; the third argument is the privacy::Clipping mode: 0 materialise, 1 book-keeping,
// 2 ghost), one thread; with each, the step's peak allocation. bench/run puts these beside Opacus on
// the same architecture and batch (bench/python/dp_step.py).
#include <benchmark/benchmark.h>
#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>
#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "models/dcgan.h"
#include "privacy/dp_sgd.h"

namespace {
using namespace ganleaks;
namespace F = torch::nn::functional;

struct Step {
  models::DcganDiscriminator d;
  torch::optim::Adam adam;
  torch::Tensor x, target;
  explicit Step(int width, int batch)
      : d(models::DcganOptions{.z_dim = 100, .width = width, .channels = 1}),
        adam(d->parameters(), torch::optim::AdamOptions(5e-4).betas({0.5, 0.999})),
        x(torch::rand({batch, 1, 32, 32}) * 2 - 1),
        target(torch::cat({torch::ones({batch / 2}), torch::zeros({batch - batch / 2})})) {}
};

// Bytes allocated through LibTorch's CPU allocator during one call and still held, at the highest point: the
// allocator reports every allocation, and the free of every block allocated while the reporter is installed, to a
// memory-profiling reporter for this thread (as the autograd profiler's profile_memory does). Blocks freed that
// are older than the call (last step's gradients) are not reported (LibTorch warns once): the same for both steps.
struct PeakAllocation : c10::MemoryReportingInfoBase {
  std::int64_t current = 0, peak = 0;
  void reportMemoryUsage(void* /*ptr*/, std::int64_t bytes, std::size_t, std::size_t, c10::Device) override {
    current += bytes;
    peak = std::max(peak, current);
  }
  bool memoryProfilingEnabled() const override { return true; }
};

double peak_bytes_of(const std::function<void()>& step) {
  const auto tracker = std::make_shared<PeakAllocation>();
  c10::DebugInfoGuard guard(c10::DebugInfoKind::PROFILER_STATE, tracker);
  step();
  return static_cast<double>(tracker->peak);
}

// Times `step` and records samples/s and, on one more step outside the timed ones, its peak allocation.
void run(benchmark::State& state, const std::function<void()>& step) {
  for (auto _ : state) step();
  state.counters["samples"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(1)),
                                                 benchmark::Counter::kIsRate);
  state.counters["peak_bytes"] = peak_bytes_of(step);
}

void DiscriminatorStep(benchmark::State& state) {
  at::set_num_threads(1);
  torch::manual_seed(0);
  Step s(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  run(state, [&] {
    s.adam.zero_grad();
    F::binary_cross_entropy_with_logits(s.d->forward(s.x), s.target).backward();
    s.adam.step();
  });
}

void DiscriminatorStepDp(benchmark::State& state) {
  at::set_num_threads(1);
  torch::manual_seed(0);
  Step s(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  const auto layers = privacy::per_sample_layers(*s.d);
  auto noise = privacy::NoiseSource::seeded(1);
  const privacy::DpSgdStep step{.max_grad_norm = 1.0, .noise_multiplier = 1.0,
                                .expected_batch_size = static_cast<double>(state.range(1))};
  const auto clipping = static_cast<privacy::Clipping>(state.range(2));
  run(state, [&] {
    for (auto* layer : layers) layer->set_capture(true, clipping);
    F::binary_cross_entropy_with_logits(s.d->forward(s.x), s.target,
                                        F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum))
        .backward();
    for (auto* layer : layers) layer->set_capture(false);
    privacy::dp_sgd_gradients(layers, step, noise, true, [](std::vector<at::Tensor>&) {});
    s.adam.step();
  });
}

BENCHMARK(DiscriminatorStep)->Args({16, 64})->Args({32, 64})->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(DiscriminatorStepDp)
    ->ArgsProduct({{16, 32}, {64}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);

}  // namespace

