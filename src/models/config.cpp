#include "models/config.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/errors.h"

namespace ganleaks {

std::string diffusion_hash_text(const ModelConfig& config, std::string_view model) {
  if (!models::is_diffusion(model)) return "";
  return fmt::format("|ddpm T{} {} sampling{} ema{} blocks{} attention{}", config.diffusion_steps, config.beta_schedule,
                     config.sampling_steps, show_real(config.ema_decay), config.unet_blocks, config.attention);
}

std::string ModelConfig::problem() const {
  if (std::ranges::find(names, "ddpm") == names.end()) return "";
  if (width % models::kUnetGroups != 0) {
    return fmt::format("model.width = {} must be a multiple of {} for model.name = \"ddpm\" (the U-Net's GroupNorm "
                       "groups)", width, models::kUnetGroups);
  }
  if (sampling_steps > diffusion_steps) {
    return fmt::format("model.sampling_steps = {} exceeds model.diffusion_steps = {}: DDIM takes at most one step per "
                       "noising step", sampling_steps, diffusion_steps);
  }
  return "";
}

}  // namespace ganleaks
