// The TOML config as every task reads it: any text is either a config or one ConfigError (never a crash, a hang,
// another exception); a config that reads plans without error (for plans small enough to expand per input).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config.h"
#include "core/errors.h"
#include "extraction/config.h"
#include "extraction/plan.h"
#include "membership/config.h"
#include "membership/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ganleaks;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    peek_text(text, "fuzz.toml", "experiment", "task", "membership");
  } catch (const ConfigError&) {
  }
  try {
    const auto c = membership::parse_config(text, "fuzz.toml");
    const auto jobs = c.model.names.size() * c.experiment.seeds.size() * c.sweep.train_sizes.size() *
                      (c.privacy.target_epsilons.size() + c.privacy.noise_multipliers.size() + 1);
    if (jobs <= 64 && c.privacy.target_epsilons.empty()) membership::make_plan(c);  // ε searches are slow per input
  } catch (const ConfigError&) {
  }
  try {
    const auto c = extraction::parse_config(text, "fuzz.toml");
    if (c.extraction.fidelity_queries.size() * c.experiment.seeds.size() <= 16) extraction::make_plan(c);
  } catch (const ConfigError&) {
  }
  return 0;
}
