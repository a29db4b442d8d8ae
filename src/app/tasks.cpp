#include "app/tasks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "audit/task.h"
#include "core/errors.h"
#include "extraction/task.h"
#include "membership/task.h"

namespace ganleaks::app {
namespace {

using SectionFilter = std::function<std::string(std::string_view)>;

// One task: its name, its config's sections (a default config visited), and how to make it from TOML.
struct TaskEntry {
  std::string_view name;
  ConfigVisit sections;
  std::function<std::unique_ptr<runner::Task>(std::string_view text, std::string_view source, const SectionFilter&)> make;
};

template <class TaskType, class ConfigType>
TaskEntry entry(std::string_view name, ConfigType (*parse)(std::string_view, std::string_view, const SectionFilter&)) {
  return {name,
          [](KeyVisitor& v) {
            ConfigType defaults;
            defaults.visit(v);
          },
          [parse](std::string_view text, std::string_view source, const SectionFilter& others) {
            return std::make_unique<TaskType>(parse(text, source, others));
          }};
}

// The first is the default task (an empty config).
const std::vector<TaskEntry>& registry() {
  static const std::vector<TaskEntry> tasks{
      entry<membership::Task>(membership::kTaskName, &membership::parse_config),
      entry<extraction::Task>(extraction::kTaskName, &extraction::parse_config),
      entry<audit::Task>(audit::kTaskName, &audit::parse_config),
  };
  return tasks;
}

}  // namespace

std::unique_ptr<runner::Task> parse_task(std::string_view toml_text, std::string_view source) {
  const auto& tasks = registry();
  const auto name = peek_text(toml_text, source, "experiment", "task", std::string(tasks.front().name));
  const auto it = std::ranges::find(tasks, name, &TaskEntry::name);
  if (it == tasks.end()) {
    std::vector<std::string_view> names;
    for (const auto& t : tasks) names.push_back(t.name);
    throw ConfigError(one_line(fmt::format("{}: experiment.task = {} is not allowed; expected one of: {}", source,
                                           quote(name), fmt::join(names, ", "))));
  }
  // A section that this task lacks but another has is named as the other task's.
  const auto others = [&](std::string_view section) -> std::string {
    for (const auto& t : tasks) {
      if (t.name == it->name) continue;
      const auto sections = section_names(t.sections);
      if (std::ranges::find(sections, section) != sections.end()) {
        return fmt::format("section [{}] does not apply to experiment.task = {}; it belongs to experiment.task = {} "
                           "(configs/README.md)", section, quote(it->name), quote(t.name));
      }
    }
    return "";
  };
  return it->make(toml_text, source, others);
}

std::unique_ptr<runner::Task> load_task(const std::filesystem::path& config_file) {
  return parse_task(read_config_file(config_file), config_file.string());
}

std::string key_tables_markdown() {
  std::string out;
  std::vector<std::string> done;
  for (const auto& task : registry()) {
    if (const auto missing = undeclared_members(task.sections); !missing.empty()) {
      throw std::logic_error(fmt::format("task {}: section members without a key declaration: {}", task.name,
                                         fmt::join(missing, "; ")));
    }
    for (const auto& section : section_names(task.sections)) {
      if (std::ranges::find(done, section) != done.end()) continue;
      done.push_back(section);
      out += fmt::format("## `[{}]`\n\n{}\n", section, key_table_markdown(task.sections, section));
    }
  }
  return out;
}

}  // namespace ganleaks::app
