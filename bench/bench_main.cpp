// BENCHMARK_MAIN for the Google Benchmark programs, with the allocator tuned as in the ganleaks executable
// (core/memory.h), so that the benchmarks time what a run does.
#include <benchmark/benchmark.h>

#include "core/memory.h"

int main(int argc, char** argv) {
  ganleaks::keep_freed_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
