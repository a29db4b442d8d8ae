// One discriminator step of the DCGAN discriminator (width 16 and 32, 32×32 images), plain vs DP-SGD
// (flat clipping, noise, Adam; per-sample gradients materialised, third argument 0, or book-keeping, 1), one
// thread. bench/run puts these beside Opacus on
// the same architecture and batch (bench/python/dp_step.py).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

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

void DiscriminatorStep(benchmark::State& state) {
  at::set_num_threads(1);
  torch::manual_seed(0);
  Step s(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  for (auto _ : state) {
    s.adam.zero_grad();
    F::binary_cross_entropy_with_logits(s.d->forward(s.x), s.target).backward();
    s.adam.step();
  }
  state.counters["samples"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(1)),
                                                 benchmark::Counter::kIsRate);
}

void DiscriminatorStepDp(benchmark::State& state) {
  at::set_num_threads(1);
  torch::manual_seed(0);
  Step s(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  const auto layers = privacy::per_sample_layers(*s.d);
  auto noise = privacy::NoiseSource::seeded(1);
  const privacy::DpSgdStep step{.max_grad_norm = 1.0, .noise_multiplier = 1.0,
                                .expected_batch_size = static_cast<double>(state.range(1))};
  const auto clipping = state.range(2) == 1 ? privacy::Clipping::kBookKeeping : privacy::Clipping::kMaterialise;
  for (auto _ : state) {
    for (auto* layer : layers) layer->set_capture(true, clipping);
    F::binary_cross_entropy_with_logits(s.d->forward(s.x), s.target,
                                        F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum))
        .backward();
    for (auto* layer : layers) layer->set_capture(false);
    privacy::dp_sgd_gradients(layers, step, noise, true, [](std::vector<at::Tensor>&) {});
    s.adam.step();
  }
  state.counters["samples"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(1)),
                                                 benchmark::Counter::kIsRate);
}

BENCHMARK(DiscriminatorStep)->Args({16, 64})->Args({32, 64})->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(DiscriminatorStepDp)
    ->ArgsProduct({{16, 32}, {64}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);

}  // namespace

