#pragma once
// The tasks this program knows, by experiment.task: the one place that names them all.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runner/task.h"

namespace ganleaks::app {

// The task a config file asks for (experiment.task, "membership" when absent), its config read and validated;
// ConfigError naming the file, and for an unknown task the valid names.
std::unique_ptr<runner::Task> load_task(const std::filesystem::path& config_file);
std::unique_ptr<runner::Task> parse_task(std::string_view toml_text, std::string_view source);

// configs/README.md's key tables: every section of every task once, in the order the tasks declare them, each as
// "## `[section]`" and its table. Throws std::logic_error when a section's struct has members it does not declare
// as keys.
std::string key_tables_markdown();

}  // namespace ganleaks::app
