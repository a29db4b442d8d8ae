// Data-parallel training throughput: DCGAN width 16, global batch 64, on however many MPI ranks it is
// launched with (one thread each); bench/run launches it on 1 and on 2 ranks and prints the speed-up.
// Prints, on rank 0, one JSON object per mode: {"name", "ranks", "iterations_per_second"}.
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/memory.h"
#include "dist/comm.h"
#include "dist/tensor_comm.h"
#include "train/trainer.h"

int main(int argc, char** argv) {
  using namespace ganleaks;
  keep_freed_memory();  // as the ganleaks executable does
  dist::Environment mpi(argc, argv);
  const auto world = dist::Comm::world();
  dist::TensorComm group(world);
  at::set_num_threads(1);
  torch::manual_seed(0);
  const auto images = torch::rand({1024, 1, 32, 32}) * 2 - 1;
  const auto dir = std::filesystem::temp_directory_path() / ("ganleaks-bench-dp-" + std::to_string(::getppid()));
  for (const bool dp : {false, true}) {
    train::RunSpec spec;
    spec.model.z_dim = 100;
    spec.model.width = 16;
    spec.train.iterations = 60;
    spec.train.batch_size = 64;
    spec.train.checkpoint_every = 1000;
    spec.seed = 1;
    spec.run_dir = dir / (dp ? "dp" : "plain") / std::to_string(world.size());
    if (dp) spec.dp = train::DpTraining{.max_grad_norm = 1.0, .noise_multiplier = 1.0, .sample_rate = 64.0 / 1024};
    spec.group = world.size() > 1 ? &group : nullptr;
    world.barrier();
    const auto start = std::chrono::steady_clock::now();
    train::train_model(spec, images);
    world.barrier();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (world.is_root()) {
      std::printf("{\"name\": \"DataParallel/%s\", \"ranks\": %d, \"iterations_per_second\": %.3f}\n",
                  dp ? "dp" : "plain", world.size(), static_cast<double>(spec.train.iterations) / seconds);
    }
  }
  if (world.is_root()) std::system(("rm -rf '" + dir.string() + "'").c_str());  // not fs::remove_all (libtorch's copy)
  return 0;
}
