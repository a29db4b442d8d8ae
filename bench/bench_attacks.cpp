// Attack kernels on one CPU thread (as one rank of the demo runs them):
//   Matmul          the machine's float32 GEMM rate: the ceiling of the fbb search
//   FbbSearch       nearest generated sample, Q queries x K samples x D pixels, as FLOP/s of its 2QKD products
//   WhiteBox        batched L-BFGS reconstruction (wb), queries/s at a fixed evaluation budget
//   PowellBatched   batched Powell (pbb), queries/s at a fixed evaluation budget
//   PowellNlopt     NLopt's PRAXIS (Brent's principal-axis Powell method), one query at a time, same budget
// bench/run compares them with each other and with PyTorch Python (bench/python/latent_search.py).
#include <benchmark/benchmark.h>
#include <nlopt.hpp>
#include <torch/torch.h>

#include "attacks/latent_search.h"
#include "attacks/membership.h"
#include "attacks/reconstruction.h"
#include "models/dcgan.h"

namespace {
using namespace ganleaks;

constexpr std::int64_t kPixels = 32 * 32;
constexpr int kZ = 100, kWidth = 16;

// The demo's generator architecture with BatchNorm statistics of the latent distribution (untrained weights:
// the cost of a search does not depend on them at a fixed evaluation budget).
models::DcganGenerator bench_generator() {
  torch::manual_seed(0);
  models::DcganGenerator g(models::DcganOptions{.z_dim = kZ, .width = kWidth, .channels = 1});
  models::dcgan_init(*g);
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 20; ++i) g->forward(torch::randn({64, kZ}));
  }
  g->eval();
  return g;
}

// A latent-search problem: the generator, q random target images and q start latents, on one thread.
struct SearchProblem {
  models::DcganGenerator generator = bench_generator();
  at::Tensor queries, start;
  explicit SearchProblem(std::int64_t q) : queries(torch::rand({q, kPixels}) * 2 - 1), start(torch::randn({q, kZ})) {
    at::set_num_threads(1);
  }
};

void Matmul(benchmark::State& state) {
  at::set_num_threads(1);
  const auto n = state.range(0);
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  for (auto _ : state) benchmark::DoNotOptimize(a.mm(b));
  state.counters["flops"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(Matmul)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void FbbSearch(benchmark::State& state) {
  at::set_num_threads(1);
  const auto q = state.range(0), k = state.range(1);
  const auto queries = torch::rand({q, kPixels}) * 2 - 1, samples = torch::rand({k, kPixels}) * 2 - 1;
  for (auto _ : state) benchmark::DoNotOptimize(attacks::nearest_generated(queries, samples));
  state.counters["flops"] =
      benchmark::Counter(2.0 * static_cast<double>(q * k * kPixels), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(FbbSearch)->Args({256, 20000})->Args({1000, 20000})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void WhiteBox(benchmark::State& state) {
  const auto q = state.range(0), evaluations = state.range(1);
  SearchProblem p(q);
  // Tolerances 0: every query spends the whole budget, so the rate compares like with like.
  const attacks::LbfgsOptions options{.max_evaluations = static_cast<int>(evaluations), .tolerance_grad = 0,
                                      .tolerance_change = 0};
  for (auto _ : state) benchmark::DoNotOptimize(attacks::reconstruct_white_box(*p.generator, p.queries, {p.start}, {}, options));
  state.counters["queries"] = benchmark::Counter(static_cast<double>(q), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(WhiteBox)->Args({128, 100})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

constexpr int kLineEvaluations = 8;
// Evaluations of one Powell sweep per query: the start, 100 line searches, the extrapolated point.
constexpr int kPowellBudget = 1 + kZ * kLineEvaluations + 1;

void PowellBatched(benchmark::State& state) {
  const auto q = state.range(0);
  SearchProblem p(q);
  const attacks::PowellOptions options{.max_iterations = 1, .line_evaluations = kLineEvaluations};
  for (auto _ : state) {
    benchmark::DoNotOptimize(attacks::reconstruct_partial_black_box(*p.generator, p.queries, p.start, {}, options));
  }
  state.counters["queries"] = benchmark::Counter(static_cast<double>(q), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(PowellBatched)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

void PowellNlopt(benchmark::State& state) {
  const auto q = state.range(0);
  SearchProblem p(q);
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < q; ++i) {
      const auto target = p.queries[i];
      nlopt::opt opt(nlopt::LN_PRAXIS, kZ);
      opt.set_maxeval(kPowellBudget);
      auto objective = [&](const std::vector<double>& z) {
        const auto zt = torch::tensor(z, torch::kFloat32).unsqueeze(0);
        const auto mse = (p.generator->forward(zt).reshape({-1}) - target).square().mean().item<double>();
        const double norm = zt.square().sum().item<double>() - kZ;
        return mse + 0.001 * norm * norm;
      };
      opt.set_min_objective(
          [](const std::vector<double>& z, std::vector<double>&, void* data) {
            return (*static_cast<decltype(objective)*>(data))(z);
          },
          &objective);
      std::vector<double> z(p.start[i].data_ptr<float>(), p.start[i].data_ptr<float>() + kZ);
      double value = 0;
      try {
        opt.optimize(z, value);
      } catch (const nlopt::roundoff_limited&) {
      }
      benchmark::DoNotOptimize(value);
    }
  }
  state.counters["queries"] = benchmark::Counter(static_cast<double>(q), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(PowellNlopt)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

