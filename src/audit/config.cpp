#include "audit/config.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/errors.h"

namespace ganleaks::audit {
namespace {

// The rules between keys, after every key was read on its own; membership inference's rules (models and data,
// DP-SGD, δ) through membership_view.
void check(const Config& c) {
  const auto fail = [&](const std::string& message) { throw ConfigError(fmt::format("{}: {}", c.source, message)); };
  if (const auto problem = c.experiment.problem(); !problem.empty()) fail(problem);
  if (c.model.names.size() != 1) {
    fail(fmt::format("model.name lists {} models; an audit audits one (run one audit per model)", c.model.names.size()));
  }
  if (c.attack.any_calibrated()) {
    fail("attack.calibrated must be [false]: the audit scores each model's raw signal on its canaries (a reference "
         "model's calibration is not part of the audit)");
  }
  for (const auto& setting : c.attack.settings) {
    if (setting == "mc" || setting == "domias") {
      fail(fmt::format("attack.settings: {} is not available in the audit: its radius (mc) or bandwidth (domias) is a "
                       "median over the query set, which here is one canary; use \"fbb\", \"pbb\", \"wb\" or \"dis\"",
                       quote(setting)));
    }
  }
  if (c.data.member_selection != "random") {
    fail("data.member_selection = \"class\" does not apply to the audit, whose training set is n records drawn at "
         "random (audit.train_size)");
  }
  if (c.attack.shadow_models > 0) {
    fail(fmt::format("attack.shadow_models = {}: the audit scores raw signals and trains no shadow models; set 0",
                     c.attack.shadow_models));
  }
  if (c.attack.uses_perceptual_classifier()) {
    fail("attack.perceptual = \"classifier\" is not available in the audit; use attack.lambda_lpips = 0 or "
         "attack.perceptual = \"lpips\"");
  }
  const auto& a = c.audit;
  if (a.runs == 0 && a.canaries == 0) {
    fail("audit.runs = 0 and audit.canaries = 0 leave nothing to audit; give T runs (multi-run) or m canaries (one-run)");
  }
  if (a.runs > 0 && a.threshold_runs >= a.runs) {
    fail(fmt::format("audit.threshold_runs = {} must be below audit.runs = {}: the runs after them count the errors",
                     a.threshold_runs, a.runs));
  }
  if (a.canaries > 0 && (a.guesses_in + a.guesses_out == 0 || a.guesses_in + a.guesses_out > a.canaries)) {
    fail(fmt::format("audit.guesses_in + audit.guesses_out = {} must be between 1 and audit.canaries = {}",
                     a.guesses_in + a.guesses_out, a.canaries));
  }
  membership::parse_config(to_toml(membership_view(c)), c.source);
}

}  // namespace

Config parse_config(std::string_view toml_text, std::string_view source_name,
                    const std::function<std::string(std::string_view)>& other_sections) {
  Config c;
  c.source = std::string(source_name);
  read_config(toml_text, source_name, [&](KeyVisitor& v) { c.visit(v); }, other_sections);
  check(c);
  return c;
}

membership::Config membership_view(const Config& config) {
  membership::Config view{.experiment = config.experiment, .data = config.data,
                          .sweep = {.train_sizes = {config.audit.train_size}}, .model = config.model,
                          .train = config.train, .attack = config.attack, .privacy = config.privacy};
  view.experiment.task = std::string(membership::kTaskName);
  view.source = config.source;
  return view;
}

}  // namespace ganleaks::audit
