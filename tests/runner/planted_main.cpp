// The runner driven with the planted task (planted_task.h), as `ganleaks run|plan|report` drives a real one:
//   planted_runner run CONFIG [--slice k/N] [--fresh] | plan CONFIG | report CONFIG
// Exit codes as ganleaks': 0 done, 2 bad input (one line), 75 interrupted, 1 a failed job.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "core/errors.h"
#include "core/interrupt.h"
#include "dist/comm.h"
#include "planted_task.h"
#include "runner/experiment.h"
#include "runner/folder.h"

int main(int argc, char** argv) {
  using namespace ganleaks;
  dist::Environment mpi(argc, argv);
  install_interrupt_handlers();
  const auto world = dist::Comm::world();
  if (argc < 3) {
    if (world.is_root()) std::fprintf(stderr, "usage: planted_runner run|plan|report CONFIG [--slice k/N] [--fresh]\n");
    return kExitUserError;
  }
  const std::string command = argv[1];
  runner::RunOptions options{.command_line = "planted_runner"};
  try {
    for (int i = 3; i < argc; ++i) {
      if (std::strcmp(argv[i], "--fresh") == 0) options.fresh = true;
      if (std::strcmp(argv[i], "--slice") == 0 && i + 1 < argc) options.slice = runner::parse_slice(argv[++i]);
    }
    planted::Task task(planted::parse_config(read_config_file(argv[2]), argv[2]));
    if (command == "plan") {
      if (world.is_root()) std::cout << runner::describe_plan(task);
      return 0;
    }
    if (command == "report") {
      if (world.is_root()) std::cout << runner::write_report(task, runner::layout_for(task.experiment()));
      return 0;
    }
    const auto outcome = runner::run_experiment(task, options, world);
    if (outcome.interrupted) return kExitInterrupted;
    if (outcome.complete && world.is_root()) std::cout << runner::assemble_results(task, outcome.layout);
  } catch (const UserError& e) {
    if (world.is_root()) std::fprintf(stderr, "planted_runner: error: %s\n", e.what());
    return kExitUserError;
  }
  return 0;
}
