// ganleaks's kernels on one device, the one GANLEAKS_BENCH_DEVICE names ("cpu", the default, or "cuda"), with the
// arithmetic a default run sets there (dist::configure_arithmetic: no TF32; deterministic unless
// GANLEAKS_BENCH_DETERMINISTIC=0). One CPU thread, like one rank (GanIteration: GANLEAKS_BENCH_THREADS, to time
// experiment.threads_per_rank > 1).
//   GanIteration   train::train_model's DCGAN iteration (non-saturating, one critic step), iterations/s; beside
//                  PyTorch eager Python on the same networks (bench/python/dcgan_step.py)
//   FbbSearch      nearest generated sample, Q queries x K samples x D pixels, as FLOP/s of its 2QKD products
//   Matmul         the device's float32 GEMM rate: the ceiling of the fbb search
#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <ftw.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include "attacks/membership.h"
#include "dist/device.h"
#include "train/trainer.h"

namespace {
using namespace ganleaks;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kPixels = 32 * 32;
constexpr std::int64_t kRecords = 1024;
constexpr std::int64_t kIterations = 50;  // per timed run: long enough that its time is mostly iterations

// The device under test, with the arithmetic set once for the process (before the first cuBLAS call).
const at::Device& bench_device() {
  static const at::Device device = [] {
    const char* name = std::getenv("GANLEAKS_BENCH_DEVICE");
    const at::Device d = name && *name ? at::Device(name) : at::Device(at::kCPU);
    if (d.is_cuda() && !torch::cuda::is_available()) {
      std::fprintf(stderr, "bench_gpu: GANLEAKS_BENCH_DEVICE=%s, but CUDA is not usable here\n", name);
      std::exit(2);
    }
    const char* deterministic = std::getenv("GANLEAKS_BENCH_DETERMINISTIC");
    dist::configure_arithmetic(d, !(deterministic && std::string(deterministic) == "0"), /*tf32=*/false);
    return d;
  }();
  return device;
}

// Waits for the device's queued work, so that a clock read afterwards covers it (CUDA runs asynchronously).
void synchronize() {
  if (bench_device().is_cuda()) torch::cuda::synchronize();
}

// libtorch.so exports its own std::filesystem::remove_all, which crashes on a non-empty folder in processes linked
// to it (train/unit_costs.cpp): removed bottom-up with nftw.
void remove_tree(const std::filesystem::path& dir) {
  nftw(dir.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }, 16,
       FTW_DEPTH | FTW_PHYS);
}

// The run folder every timed run reuses, removed when the program ends.
const std::filesystem::path& scratch_dir() {
  static const struct Scratch {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("ganleaks-bench-gpu-" + std::to_string(::getpid()));
    ~Scratch() { remove_tree(dir); }
  } scratch;
  return scratch.dir;
}

// Seconds of one train_model run of `iterations` on a fresh run folder (no checkpoint to resume, none written).
double train_seconds(int width, int batch, std::int64_t iterations, const at::Tensor& records) {
  train::RunSpec spec;
  spec.model.names = {"dcgan"};
  spec.model.z_dim = 100;
  spec.model.width = width;
  spec.train.iterations = iterations;
  spec.train.batch_size = batch;
  spec.train.checkpoint_every = 1'000'000;
  spec.seed = 1;
  spec.device = bench_device();
  spec.run_dir = scratch_dir();
  remove_tree(spec.run_dir);
  synchronize();
  const auto start = Clock::now();
  train::train_model(spec, records);
  synchronize();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A run's fixed cost plus one iteration (set-up, moving the networks, writing the release), per (width, batch):
// the median of three runs of 1 iteration, after one that pays the device's own start-up (CUDA context, cuDNN and
// cuBLAS handles). Subtracted from each timed run, it leaves kIterations - 1 iterations.
double one_iteration_run_seconds(int width, int batch, const at::Tensor& records) {
  static std::map<std::pair<int, int>, double> cache;
  const auto key = std::make_pair(width, batch);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  train_seconds(width, batch, 1, records);
  std::array<double, 3> runs{};
  for (auto& t : runs) t = train_seconds(width, batch, 1, records);
  std::ranges::sort(runs);
  return cache[key] = runs[1];
}

void GanIteration(benchmark::State& state) {
  const char* threads = std::getenv("GANLEAKS_BENCH_THREADS");
  at::set_num_threads(threads && *threads ? std::max(1, std::atoi(threads)) : 1);
  const int width = static_cast<int>(state.range(0)), batch = static_cast<int>(state.range(1));
  torch::manual_seed(0);
  const auto records = (torch::rand({kRecords, 1, 32, 32}) * 2 - 1).to(bench_device());  // already on the device
  const double fixed = one_iteration_run_seconds(width, batch, records);
  double iteration_seconds = 0;
  for (auto _ : state) {
    const double seconds = std::max(train_seconds(width, batch, kIterations, records) - fixed, 1e-9);
    state.SetIterationTime(seconds);
    iteration_seconds += seconds;
  }
  state.counters["iterations_per_second"] =
      static_cast<double>((kIterations - 1) * state.iterations()) / iteration_seconds;
}
// Google Benchmark's default minimum time (0.5 s of measured iterations): a MinTime would enter the name as
// "/min_time:...", which bench/device-check's lookup by "GanIteration/<width>/<batch>" does not expect.
BENCHMARK(GanIteration)->ArgsProduct({{16, 64}, {32, 64}})->Unit(benchmark::kMillisecond)->UseManualTime();

void FbbSearch(benchmark::State& state) {
  at::set_num_threads(1);
  const auto q = state.range(0), k = state.range(1);
  const auto on_device = torch::TensorOptions().device(bench_device());
  const auto queries = torch::rand({q, kPixels}, on_device) * 2 - 1, samples = torch::rand({k, kPixels}, on_device) * 2 - 1;
  benchmark::DoNotOptimize(attacks::nearest_generated(queries, samples));  // warm-up: handles, allocator
  synchronize();
  for (auto _ : state) {
    benchmark::DoNotOptimize(attacks::nearest_generated(queries, samples));  // returns host vectors: waits anyway
    synchronize();
  }
  state.counters["flops"] =
      benchmark::Counter(2.0 * static_cast<double>(q * k * kPixels), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(FbbSearch)->Args({256, 20000})->Args({1000, 20000})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

void Matmul(benchmark::State& state) {
  at::set_num_threads(1);
  const auto n = state.range(0);
  const auto on_device = torch::TensorOptions().device(bench_device());
  const auto a = torch::randn({n, n}, on_device), b = torch::randn({n, n}, on_device);
  benchmark::DoNotOptimize(a.mm(b));  // warm-up: the cuBLAS handle and workspace
  synchronize();
  for (auto _ : state) {
    benchmark::DoNotOptimize(a.mm(b));
    synchronize();
  }
  state.counters["flops"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(Matmul)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

}  // namespace
