// ganleaks: measure how much a generative model leaks about its training data.
//   ganleaks run <config>     train victims, attack them, write results/<experiment>/ (resumes)
//   ganleaks plan <config>    print the job graph without running it
//   ganleaks report <config>  rebuild report.md / report.csv from an existing results.h5
//   ganleaks privacy ...      epsilon of a DP-SGD run, or the noise multiplier for a target epsilon
//   ganleaks audit-bound ...  an empirical lower bound on epsilon from an audit's counts (multi-run or one-run)
//   ganleaks fid A.h5 B.h5    Frechet distance between two feature sets
//   ganleaks keys             every config key, as the tables of configs/README.md
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <torch/version.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app/tasks.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "dist/comm.h"
#include "dist/device.h"
#include "metrics/fid.h"
#include "privacy/accountant.h"
#include "privacy/audit_bounds.h"
#include "runner/experiment.h"
#include "runner/folder.h"

namespace {

// A number option in [lo, hi] (or (lo, hi] when lo_open), with messages that say what was wrong in a few words.
CLI::Validator number_in(double lo, double hi, bool lo_open = false, bool integer = false) {
  const auto range = fmt::format("{}{}, {}]", lo_open ? '(' : '[', lo, hi);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v)) {
          return fmt::format("'{}' is not a{} number", text, integer ? "n integer" : "");
        }
        if (integer && v != std::floor(v)) return fmt::format("{} is not an integer", text);
        if (!(lo_open ? v > lo : v >= lo) || !(v <= hi)) return fmt::format("{} is outside {}", text, range);
        return "";
      },
      std::string(integer ? "INTEGER" : "NUMBER") + " in " + range);
}

std::string joined_command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) out += (i ? " " : "") + std::string(argv[i]);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ganleaks;
  keep_freed_memory();
  const auto command_line = joined_command_line(argc, argv);
  dist::Environment mpi(argc, argv);
  const auto world = dist::Comm::world();

  CLI::App app{"ganleaks: membership inference against generative models on MPI ranks"};
  app.require_subcommand(1);
  // One line, as every other input error: what was wrong (no "Run with --help" line under it).
  app.failure_message([](const CLI::App*, const CLI::Error& e) { return std::string("ganleaks: error: ") + e.what() + "\n"; });
  std::string config_path;
  bool fresh = false;
  auto* run = app.add_subcommand("run", "Train the victims of a sweep, attack them and write the leak table");
  run->add_option("config", config_path, "Experiment config (TOML)")->required();
  run->add_flag("--fresh", fresh, "Start over in a new results folder instead of resuming");
  std::string slice;
  run->add_option("--slice", slice,
                  "Run slice k/N of the plan (0 <= k < N; Slurm arrays): its share of the jobs and the unfinished jobs "
                  "they need; slices may run at the same time");
  auto* plan = app.add_subcommand("plan", "Print the expanded job list and its estimated cost without running it");
  plan->add_option("config", config_path, "Experiment config (TOML)")->required();
  runner::PlanOptions plan_options;
  plan->add_option("--ranks", plan_options.ranks, "Ranks for the wall-time estimate")
      ->check(number_in(1, 1e6, false, true))->capture_default_str();
  double gpu_speedup = 0;
  auto* gpu_speedup_option =
      plan->add_option("--gpu-speedup", gpu_speedup,
                       "Speed of one GPU rank relative to one CPU core here, for the GPU-hours estimate (default: what "
                       "bench/device-check measured, else 30)")
          ->check(number_in(0, 1e6, true));
  bool no_estimate = false;
  plan->add_flag("--no-estimate", no_estimate, "List the jobs only; do not time the models for a cost estimate");
  auto* report = app.add_subcommand("report", "Rebuild report.md and report.csv from results.h5");
  report->add_option("config", config_path, "Experiment config (TOML)")->required();
  auto* fid = app.add_subcommand(
      "fid", "Frechet distance between two feature sets: (N, d) datasets in two HDF5 files, float64 statistics");
  std::vector<std::string> fid_files;
  std::string fid_dataset = "features";
  fid->add_option("files", fid_files, "The two HDF5 files")->required()->expected(2);
  fid->add_option("--dataset", fid_dataset, "The (N, d) dataset in each file")->capture_default_str();
  auto* keys = app.add_subcommand("keys", "Print every config key of every task (name, type, default, allowed, meaning) "
                                            "as the Markdown tables of configs/README.md");
  auto* privacy = app.add_subcommand(
      "privacy", "DP-SGD accounting (RDP of the sampled Gaussian mechanism, Opacus's orders): epsilon for a "
                 "noise multiplier, or the noise multiplier for a target epsilon");
  double noise_multiplier = 0, target_epsilon = 0, sample_rate = 0, delta = 1e-5;
  long steps = 0;
  auto* sigma_option = privacy->add_option("--noise-multiplier", noise_multiplier, "sigma: noise std / clipping norm")
                           ->check(number_in(privacy::kMinNoiseMultiplier, privacy::kMaxNoiseMultiplier));
  auto* target_option = privacy->add_option("--target-epsilon", target_epsilon, "print the sigma that reaches this epsilon")
                            ->check(number_in(0, 1e6, true))
                            ->excludes(sigma_option);
  privacy->add_option("--sample-rate", sample_rate, "q: Poisson sampling rate of a step")
      ->required()
      ->check(number_in(0, 1));
  privacy->add_option("--steps", steps, "T: training steps")->required()->check(number_in(1, 1e12, false, true));
  privacy->add_option("--delta", delta, "delta of (epsilon, delta)-DP")->capture_default_str()
      ->check(number_in(privacy::kMinDelta, 0.999));
  auto* audit = app.add_subcommand(
      "audit-bound", "Lower bound on epsilon from a privacy audit's outcomes (docs/privacy.md, \"Auditing\"): multi-run "
                     "from false positives/negatives of T runs each way, or --one-run from m canaries' guesses");
  privacy::MultiRunAudit multi;
  privacy::OneRunAudit one;
  bool one_run = false, gdp = false;
  double audit_delta = 0, confidence = 0.95;
  audit->add_flag("--one-run", one_run, "Steinke et al.'s one-run audit (--canaries, --guesses, --correct)");
  audit->add_option("--false-positives", multi.false_positives, "F: runs without the canary called IN")
      ->check(number_in(0, 1e15, false, true));
  audit->add_option("--false-negatives", multi.false_negatives, "N: runs with the canary called OUT")
      ->check(number_in(0, 1e15, false, true));
  audit->add_option("--trials", multi.trials, "T: runs on each side")->check(number_in(1, 1e15, false, true));
  audit->add_option("--canaries", one.canaries, "m: canaries, each included with probability 1/2")
      ->check(number_in(1, 1e15, false, true));
  audit->add_option("--guesses", one.guesses, "r: guesses made (canaries not abstained on)")
      ->check(number_in(0, 1e15, false, true));
  audit->add_option("--correct", one.correct, "v: right guesses")->check(number_in(0, 1e15, false, true));
  audit->add_option("--delta", audit_delta, "delta of the (epsilon, delta)-DP being tested, below 1")
      ->capture_default_str()
      ->check(number_in(0, 1));
  audit->add_option("--confidence", confidence, "confidence level of the bound, below 1")->capture_default_str()
      ->check(number_in(0, 1, true));
  audit->add_flag("--gdp", gdp, "multi-run: also print the rates' upper ends and the Gaussian-DP bound (mu, epsilon)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = world.is_root() ? app.exit(e) : e.get_exit_code();
    return code == 0 ? 0 : kExitUserError;
  }
  // After MPI_Init, so that ours are the handlers in place: a run stops resumably, anything else at once.
  install_interrupt_handlers(run->parsed() ? OnSignal::kStopResumably : OnSignal::kExit);

  if (privacy->parsed()) {
    if (sigma_option->count() + target_option->count() != 1) {
      if (world.is_root()) std::fprintf(stderr, "ganleaks: error: privacy: give --noise-multiplier or --target-epsilon\n");
      return kExitUserError;
    }
    try {
      if (sigma_option->count()) {
        const auto spent = privacy::epsilon(sample_rate, noise_multiplier, steps, delta);
        if (world.is_root()) std::cout << fmt::format("epsilon = {:.10g}\norder = {:g}\n", spent.epsilon, spent.order);
      } else {
        const double sigma = privacy::noise_multiplier_for(target_epsilon, sample_rate, steps, delta);
        if (world.is_root()) std::cout << fmt::format("noise_multiplier = {:.10g}\n", sigma);
      }
    } catch (const std::invalid_argument& e) {
      if (world.is_root()) std::fprintf(stderr, "ganleaks: error: privacy: %s\n", e.what());
      return kExitUserError;
    }
    return 0;
  }

  if (audit->parsed()) {
    const auto given = [&](const char* name) { return audit->get_option(name)->count() > 0; };
    const std::vector<const char*> needed = one_run ? std::vector<const char*>{"--canaries", "--guesses", "--correct"}
                                                    : std::vector<const char*>{"--false-positives", "--false-negatives", "--trials"};
    for (const auto* name : needed) {
      if (!given(name)) {
        if (world.is_root()) std::fprintf(stderr, "ganleaks: error: audit-bound: %s is required%s\n", name, one_run ? " with --one-run" : "");
        return kExitUserError;
      }
    }
    try {
      std::string out;
      if (one_run) {
        one.delta = audit_delta, one.confidence = confidence;
        out = fmt::format("epsilon_lb = {:.10g}\n", privacy::epsilon_lower_bound(one));
      } else {
        multi.delta = audit_delta, multi.confidence = confidence;
        out = fmt::format("epsilon_lb = {:.10g}\n", privacy::epsilon_lower_bound(multi));
        if (gdp) {
          const double mu = privacy::gdp_mu_lower_bound(multi);
          out += fmt::format("fpr_upper = {:.10g}\nfnr_upper = {:.10g}\ngdp_mu_lb = {:.10g}\ngdp_epsilon_lb = {:.10g}\n",
                             privacy::clopper_pearson_upper(multi.false_positives, multi.trials, confidence),
                             privacy::clopper_pearson_upper(multi.false_negatives, multi.trials, confidence), mu,
                             privacy::gdp_epsilon(mu, audit_delta));
        }
      }
      if (world.is_root()) std::cout << out;
    } catch (const std::invalid_argument& e) {
      if (world.is_root()) std::fprintf(stderr, "ganleaks: error: audit-bound: %s\n", e.what());
      return kExitUserError;
    }
    return 0;
  }

  if (keys->parsed()) {
    try {
      if (world.is_root()) std::cout << ganleaks::app::key_tables_markdown();
    } catch (const std::logic_error& e) {  // a section member without a key declaration: a programming error
      std::fprintf(stderr, "ganleaks: keys: %s\n", e.what());
      return 1;
    }
    return 0;
  }

  if (fid->parsed()) {
    try {
      if (world.is_root()) std::cout << metrics::fid_report(fid_files[0], fid_files[1], fid_dataset);
    } catch (const UserError& e) {
      if (world.is_root()) std::fprintf(stderr, "ganleaks: error: fid: %s\n", e.what());
      return kExitUserError;
    }
    return 0;
  }

  try {
    const auto task = ganleaks::app::load_task(config_path);
    if (plan->parsed()) {
      plan_options.estimate = !no_estimate;
      if (gpu_speedup_option->count()) {
        plan_options.gpu = {gpu_speedup, "given with --gpu-speedup"};
      } else if (auto measured = runner::read_gpu_speedup(runner::gpu_speedup_file())) {
        plan_options.gpu = std::move(*measured);
      }
      if (world.is_root()) std::cout << runner::describe_plan(*task, plan_options);
    } else if (report->parsed()) {
      if (world.is_root()) std::cout << runner::write_report(*task, runner::layout_for(task->experiment()));
    } else {
      const auto& experiment = task->experiment();
      at::Device device = at::kCPU;
      runner::agreed(world, [&] { device = dist::choose_device(experiment.device, world.local_rank()); });
      dist::configure_arithmetic(device, experiment.deterministic, experiment.tf32);
      const auto outcome = runner::run_experiment(
          *task,
          {.fresh = fresh, .command_line = command_line,
           .slice = slice.empty() ? runner::Slice{} : runner::parse_slice(slice),
           .device = device.str(), .versions = {{"libtorch", TORCH_VERSION}}},
          world);
      const auto& layout = outcome.layout;
      if (outcome.interrupted) {
        if (world.is_root()) {
          std::fprintf(stderr, "ganleaks: interrupted: %lld of %lld jobs done, running ones checkpointed; rerun the same "
                               "command to resume (%s)\n",
                       static_cast<long long>(outcome.jobs_done), static_cast<long long>(outcome.jobs_total),
                       layout.root.c_str());
        }
        return kExitInterrupted;
      }
      if (!outcome.complete) {  // a slice whose siblings are still running
        if (world.is_root()) {
          std::printf("ganleaks: slice %s done; %lld of %lld jobs of the experiment done. results.h5 is written by the run "
                      "that finishes the last job (or by `ganleaks run %s` once the slices are done)\n",
                      slice.c_str(), static_cast<long long>(outcome.jobs_done), static_cast<long long>(outcome.jobs_total),
                      config_path.c_str());
        }
        return 0;
      }
      if (world.is_root()) {
        const auto table = runner::assemble_results(*task, layout);
        std::cout << "\n" << task->headline() << ", " << task->experiment().name << " (" << layout.root.string() << "):\n\n"
                  << table << "\nFull report: " << layout.report_md().string() << "\n";
      }
    }
  } catch (const UserError& e) {
    // Input errors are found alike on every rank (or agreed on through rank 0), so no rank is left waiting.
    if (world.is_root()) std::fprintf(stderr, "ganleaks: error: %s\n", e.what());
    return kExitUserError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ganleaks: rank %d: internal error: %s\n", world.rank(), e.what());
    if (world.size() > 1) dist::Environment::abort(1);
    return 1;
  }
  return 0;
}
