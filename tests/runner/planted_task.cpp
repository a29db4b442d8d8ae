#include "planted_task.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "core/interrupt.h"
#include "core/seeding.h"
#include "dist/collectives.h"
#include "dist/placement.h"
#include "io/atomic_file.h"
#include "io/record.h"
#include "io/h5.h"
#include "runner/folder.h"

namespace ganleaks::planted {

Config parse_config(std::string_view text, std::string_view source) {
  Config c{.source = std::string(source)};
  read_config(text, source, [&](KeyVisitor& v) { c.visit(v); });
  return c;
}

Task::Task(Config config) : ConfiguredTask(std::move(config)) {
  const auto add = [&](runner::Job job, Spec spec) {
    job.id = static_cast<int>(jobs_.size());
    job.inputs = fmt::format("{}|{}|{}|{}|{}", job.kind, spec.size, spec.seed, config_.planted.steps, config_.planted.blocks);
    jobs_.push_back(std::move(job));
    specs_.push_back(spec);
    return jobs_.back().id;
  };
  for (const auto seed : config_.experiment.seeds) {
    const int base = add({.name = fmt::format("base-s{}", seed), .kind = "count", .shared = true}, {1, seed});
    for (const auto n : config_.planted.sizes) {
      const int count = add({.name = fmt::format("count-n{}-s{}", n, seed), .kind = "count"}, {n, seed});
      add({.name = fmt::format("gather-n{}-s{}", n, seed), .kind = "gather", .collective = true,
           .depends_on = {count, base}},
          {n, seed});
    }
  }
}

std::filesystem::path Task::output(const runner::Layout& layout, const runner::Job& job) const {
  return job.collective ? layout.record("gathers", job.name) : layout.run_record(job.name);
}

std::string Task::describe(const runner::Job& job) const { return job.shared ? "shared" : ""; }

runner::CostEstimate Task::estimate(const std::vector<runner::Job>& jobs) const {
  runner::CostEstimate cost;
  for (const auto& job : jobs) {
    const double seconds = static_cast<double>(config_.planted.steps) * config_.planted.step_seconds;
    cost.rank_seconds += seconds;
    cost.by_kind[job.kind] += seconds;
  }
  cost.unit_seconds["step"] = config_.planted.step_seconds;
  return cost;
}

void Task::start(const runner::RunContext&) {}

void Task::run(const runner::Job& job, const runner::RunContext& context, const std::function<void()>& between_steps) {
  if (job.name == config_.planted.fail_job) throw std::runtime_error("planted failure");
  if (job.collective) return gather(job, specs_[job.id], context);
  count(job, specs_[job.id], context, between_steps);
}

// sum over steps of (splitmix of the seed stream) mod 1000 × size, resumable: a checkpoint holds the next step and
// the partial sum.
void Task::count(const runner::Job& job, const Spec& spec, const runner::RunContext& context,
                 const std::function<void()>& between_steps) const {
  const auto dir = context.layout.run_dir(job.name);
  std::filesystem::create_directories(dir);
  const auto checkpoint = dir / "checkpoint.txt";
  std::int64_t step = 0, sum = 0;
  if (std::ifstream in(checkpoint); in) in >> step >> sum;
  const auto resumed_from = step;
  for (; step < config_.planted.steps; ++step) {
    if (interrupt_requested()) {
      io::write_file(checkpoint, fmt::format("{} {}\n", step, sum));
      throw Interrupted("count");
    }
    sum += static_cast<std::int64_t>(derive_seed(spec.seed, job.name, static_cast<std::uint64_t>(step)) % 1000) * spec.size;
    if (config_.planted.step_seconds > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(config_.planted.step_seconds));
    }
    if (between_steps) between_steps();
  }
  io::commit_record(context.layout.run_record(job.name), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    file.root().set_attr("job_hash", job.hash);
    file.root().set_attr("sum", sum);
    file.root().set_attr("resumed_from", resumed_from);
    dist::record_placement(file.root(), dist::placement(context.world.rank(), 1, context.device));
  });
}

// Block b (of config.blocks) on rank b mod W: its value from the count job's sum; rank 0 writes them in block order.
void Task::gather(const runner::Job& job, const Spec& spec, const runner::RunContext& context) const {
  const auto& world = context.world;
  const auto count_file = io::H5File::open_read(context.layout.run_record(jobs_[job.depends_on[0]].name));
  const auto base_file = io::H5File::open_read(context.layout.run_record(jobs_[job.depends_on[1]].name));
  const auto total = count_file.root().attr_int("sum") + base_file.root().attr_int("sum");
  std::vector<std::int64_t> mine;  // (block, value) pairs
  for (std::int64_t b = world.rank(); b < config_.planted.blocks; b += world.size()) {
    mine.push_back(b);
    mine.push_back(total * (b + 1) + spec.size);
  }
  const auto parts = dist::gather<std::int64_t>(world, mine, 0);
  if (!world.is_root()) return;
  std::vector<std::int64_t> values(static_cast<std::size_t>(config_.planted.blocks));
  for (const auto& part : parts) {
    for (std::size_t i = 0; i + 1 < part.size(); i += 2) values[static_cast<std::size_t>(part[i])] = part[i + 1];
  }
  io::commit_record(output(context.layout, job), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    file.root().set_attr("job_hash", job.hash);
    file.root().write("values", std::span<const std::int64_t>(values));
    dist::record_placement(file.root(), dist::placement(0, world.size(), context.device));
  });
}

void Task::assemble(const runner::Layout& layout, const io::H5File& results) const {
  for (const auto& job : jobs_) {
    const auto in = io::H5File::open_read(output(layout, job));
    io::copy_group(in, "/", results, (job.collective ? "gathers/" : "runs/") + job.name);
  }
}

std::string Task::report(const runner::Layout& layout) const {
  const auto file = io::H5File::open_read(layout.results());
  std::string table = "| job | first value |\n|---|---:|\n";
  for (const auto& job : jobs_) {
    if (!job.collective) continue;
    const auto values = file.root().open_group("gathers/" + job.name).read_int64s("values");
    table += fmt::format("| {} | {} |\n", job.name, values.front());
  }
  io::write_file(layout.report_md(), "# planted\n\n" + table);
  return table;
}

}  // namespace ganleaks::planted
