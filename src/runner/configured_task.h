#pragma once
// What every task with a config of its own says the same way: its [experiment] section, its file and its resolved
// TOML. Config: a struct with `ExperimentConfig experiment`, `std::string source` and `visit()` (core/config.h).
#include <string>
#include <utility>

#include "core/config.h"
#include "runner/task.h"

namespace ganleaks::runner {

template <class Config>
class ConfiguredTask : public Task {
 public:
  explicit ConfiguredTask(Config config) : config_(std::move(config)) {}

  const Config& config() const { return config_; }
  const ExperimentConfig& experiment() const override { return config_.experiment; }
  const std::string& source() const override { return config_.source; }
  std::string resolved_config() const override { return to_toml(config_); }

 protected:
  Config config_;
};

}  // namespace ganleaks::runner
