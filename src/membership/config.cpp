#include "membership/config.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/errors.h"
#include "models/catalog.h"
#include "privacy/accountant.h"

namespace ganleaks::membership {
namespace {

// The rules between keys, after every key was read on its own.
void check(const Config& c) {
  const auto fail = [&](const std::string& message) { throw ConfigError(fmt::format("{}: {}", c.source, message)); };
  if (const auto problem = c.experiment.problem(); !problem.empty()) fail(problem);
  if (c.attack.lambda_lpips > 0 && c.attack.perceptual == "lpips" && c.attack.lpips_model.empty()) {
    fail(fmt::format("attack.lambda_lpips = {} needs attack.lpips_model, the path of a TorchScript LPIPS model "
                     "(docs/attacks.md)", show_real(c.attack.lambda_lpips)));
  }
  if (c.attack.lambda_lpips > 0 && !c.data.images()) {
    fail(fmt::format("attack.lambda_lpips = {} compares images, but data.dataset = {} holds records; set "
                     "attack.lambda_lpips = 0", show_real(c.attack.lambda_lpips), quote(c.data.dataset)));
  }
  if (c.attack.uses_perceptual_classifier() && c.data.pool == "all") {
    // The classifier must not have seen a query: it trains on the Fashion-MNIST file the pool leaves out.
    fail("attack.perceptual = \"classifier\" trains its classifier on the Fashion-MNIST file outside data.pool, and "
         "data.pool = \"all\" leaves none; set data.pool = \"train\" or \"test\"");
  }
  if (!c.privacy.target_epsilons.empty() && !c.privacy.noise_multipliers.empty()) {
    fail("privacy.target_epsilons and privacy.noise_multipliers are both given; give the privacy levels one way (ε, or σ)");
  }
  if (const auto problem = c.model.problem(); !problem.empty()) fail(problem);
  check_diffusion_settings(c.model, c.attack, fail);
  for (const auto& name : c.model.names) {
    const auto& model = models::model_info(name);
    const bool records = !c.data.images();
    if (records != (model.modality == models::Modality::kRecords)) {
      fail(fmt::format("model.name = {} is a model of {}, but data.dataset = {} holds {}; {}", quote(name),
                       records ? "images" : "records", quote(c.data.dataset), records ? "records" : "images",
                       records ? "use model.name = \"medgan\"" : "use an image model (docs/models.md)"));
    }
    if (!model.dp_sgd && c.privacy.any_dp()) {
      // SPEC §2: DP-SGD needs per-sample gradients of every discriminator parameter, through the clipped path.
      fail(fmt::format("DP-SGD (privacy.target_epsilons / noise_multipliers) is available for model.name = \"dcgan\" "
                       "only, not {}: its discriminator is not made of per-sample layers (docs/privacy.md)", quote(name)));
    }
  }
  if (c.privacy.delta > 0 && c.privacy.delta < privacy::kMinDelta) {
    fail(fmt::format("privacy.delta = {} is below {}, where the accountant stops being valid; give a larger δ or 0 "
                     "(1/n rounded down to a power of ten)", show_real(c.privacy.delta), privacy::kMinDelta));
  }
  if (c.attack.shadow_models % 2 != 0) {
    fail(fmt::format("attack.shadow_models = {} must be even: shadows are trained in pairs on complementary halves of "
                     "the shadow population, so that every query is IN for exactly half of them",
                     c.attack.shadow_models));
  }
  if (c.attack.shadow_models == 2 && c.attack.shadow_spread == "per-query") {
    fail("attack.shadow_spread = \"per-query\" needs at least 4 shadow models (2 on each side of every query); "
         "attack.shadow_models = 2");
  }
  if (c.attack.shadow_models > 0 && shadow_reference_records(c) > c.data.reference_size) {
    fail(fmt::format("attack.shadow_models = {} ({}) needs {} records of the reference split (the shadow population "
                     "beyond the queries for n = {}, plus attack.rmia_population = {}), but data.reference_size = {}",
                     c.attack.shadow_models, c.attack.shadow_mode, shadow_reference_records(c),
                     c.sweep.train_sizes.back(), c.attack.rmia_population, c.data.reference_size));
  }
  if (!c.privacy.non_private && !c.privacy.any_dp()) {
    fail("privacy.non_private = false with no privacy.target_epsilons or privacy.noise_multipliers leaves no victim "
         "to train");
  }
}

}  // namespace

bool applies(std::string_view setting, std::string_view model) {
  const bool diffusion = models::is_diffusion(model);
  if (setting == "loss" || setting == "secmi" || setting == "pia") return diffusion;
  if (setting == "pbb" || setting == "wb" || setting == "dis") return !diffusion;
  return true;
}

void check_diffusion_settings(const ModelConfig& model, const AttackConfig& attack,
                              const std::function<void(const std::string&)>& fail) {
  for (const auto& setting : attack.settings) {
    if (std::ranges::none_of(model.names, [&](const std::string& name) { return applies(setting, name); })) {
      const bool diffusion = setting == "loss" || setting == "secmi" || setting == "pia";
      fail(fmt::format("attack.settings lists {}, which applies to no model of model.name: {}", quote(setting),
                       diffusion ? "it reads a diffusion model's noise prediction (model.name = \"ddpm\")"
                                 : "ddpm has no discriminator, likelihood bound or latent space to search; attack it "
                                   "with loss, secmi, pia or the sample-based fbb, mc, domias"));
    }
  }
  if (std::ranges::none_of(model.names, [](const std::string& name) { return models::is_diffusion(name); })) return;
  const auto T = model.diffusion_steps;
  const auto uses = [&](std::string_view s) { return std::ranges::find(attack.settings, s) != attack.settings.end(); };
  if (uses("loss")) {
    for (const int t : attack.loss_timesteps) {
      if (t >= T) fail(fmt::format("attack.loss_timesteps holds {}, not below model.diffusion_steps = {}", t, T));
    }
  }
  if (uses("secmi")) {
    if (attack.secmi_t % attack.secmi_interval != 0) {
      fail(fmt::format("attack.secmi_t = {} must be a multiple of attack.secmi_interval = {} (the inversion reaches "
                       "t_SEC in steps of k)", attack.secmi_t, attack.secmi_interval));
    }
    if (attack.secmi_t + attack.secmi_interval >= T) {
      fail(fmt::format("attack.secmi_t + attack.secmi_interval = {} must be below model.diffusion_steps = {} (SecMI "
                       "steps from t_SEC to t_SEC + k and back)", attack.secmi_t + attack.secmi_interval, T));
    }
  }
  if (uses("pia") && attack.pia_t >= T) {
    fail(fmt::format("attack.pia_t = {} must be below model.diffusion_steps = {}", attack.pia_t, T));
  }
}

bool AttackConfig::any_calibrated() const { return std::ranges::find(calibrated, true) != calibrated.end(); }

bool AttackConfig::uses_perceptual_classifier() const {
  const auto searches = [&](std::string_view setting) { return std::ranges::find(settings, setting) != settings.end(); };
  return lambda_lpips > 0 && perceptual == "classifier" && (searches("pbb") || searches("wb"));
}

Config parse_config(std::string_view toml_text, std::string_view source_name,
                    const std::function<std::string(std::string_view)>& other_sections) {
  auto split = split_variants(toml_text, source_name, kVariantSections);
  Config c;
  c.source = std::string(source_name);
  read_config(split.rest, source_name, [&](KeyVisitor& v) { c.visit(v); }, other_sections);
  std::ranges::sort(c.sweep.train_sizes);
  check(c);
  c.variants = std::move(split.variants);
  arms(c);  // every variant's config is checked like the file's
  return c;
}

std::vector<Arm> arms(const Config& config) {
  if (config.variants.empty()) return {{"", config}};
  Config base = config;
  base.variants.clear();
  const auto base_text = to_toml(base);
  std::vector<Arm> out;
  for (const auto& variant : config.variants) {
    const auto source = fmt::format("{}, variant {}", config.source, quote(variant.label));
    auto arm = parse_config(apply_overrides(base_text, variant), source);
    const auto fail = [&](const std::string& key, const std::string& why) {
      throw ConfigError(fmt::format("{}: {} cannot differ between variants: {}", source, key, why));
    };
    if (arm.model.names != base.model.names) fail("model.name", "models are compared by listing them in [model] name");
    if (arm.attack.max_queries != base.attack.max_queries) {
      fail("attack.max_queries", "every variant attacks the same queries, so that their AUCs compare");
    }
    out.push_back({variant.label, std::move(arm)});
  }
  return out;
}

double search_lambda_reg(const Config& config, std::string_view model) {
  return models::model_info(model).latent_norm_penalty ? config.attack.lambda_reg : 0.0;
}

std::int64_t shadow_reference_records(const Config& config) {
  if (config.attack.shadow_models == 0) return 0;
  std::int64_t most = 0;
  for (const auto n : config.sweep.train_sizes) {
    const auto beyond = config.attack.shadow_mode == "online" ? 2 * n - 2 * query_count(config, n) : 2 * n;
    most = std::max(most, beyond);
  }
  return most + config.attack.rmia_population;
}

std::int64_t query_count(const Config& config, std::int64_t train_size) {
  return std::min(train_size, config.attack.max_queries);
}

std::int64_t holdout_size(const Config& config) {
  return query_count(config, config.sweep.train_sizes.back());  // train_sizes is sorted ascending
}

}  // namespace ganleaks::membership
