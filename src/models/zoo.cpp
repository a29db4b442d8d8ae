#include "models/zoo.h"

#include <torch/serialize.h>

#include <fmt/format.h>

#include "core/errors.h"
#include "models/archive.h"
#include "models/dcgan.h"
#include "models/ddpm.h"
#include "models/pggan.h"
#include "models/sngan.h"

namespace ganleaks::models {

std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> Networks::modules() const {
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> out{{"generator", generator}};
  if (discriminator) out.emplace_back("discriminator", discriminator);
  if (encoder) out.emplace_back("encoder", encoder.ptr());
  if (latent_discriminator) out.emplace_back("latent_discriminator", latent_discriminator.ptr());
  // medgan: the autoencoder's encoder half (its decoder is saved with the generator, which shares it)
  if (autoencoder) out.emplace_back("autoencoder", autoencoder.ptr());
  if (denoiser) out.emplace_back("denoiser", denoiser.ptr());
  return out;
}

void Networks::train(bool on) const {
  for (const auto& [name, module] : modules()) module->train(on);
}

void Networks::to(const at::Device& device) const {
  for (const auto& [name, module] : modules()) module->to(device);
}

Networks make_networks(const ModelConfig& config, std::span<const std::int64_t> sample_shape) {
  Networks n;
  n.info = &model_info(config.name());
  const auto image_channels = [&] {
    TORCH_CHECK(sample_shape.size() == 3 && sample_shape[1] == 32 && sample_shape[2] == 32, "model ", config.name(),
                ": expects images of shape (C, 32, 32), got records of shape ",
                at::IntArrayRef(sample_shape.data(), sample_shape.size()));
    return static_cast<int>(sample_shape[0]);
  };
  switch (n.info->objective) {
    case Objective::kNonSaturating:
    case Objective::kWassersteinGp:
    case Objective::kHinge: {
      if (config.name() == "pggan") {
        const PgganOptions o{config.z_dim, config.width, image_channels()};
        n.generator = PgganGenerator(o).ptr();
        n.discriminator = PgganDiscriminator(o).ptr();
      } else if (config.name() == "sngan") {
        const SnganOptions o{config.z_dim, config.width, image_channels()};
        n.generator = SnganGenerator(o).ptr();
        n.discriminator = SnganDiscriminator(o).ptr();
      } else {
        const DcganOptions o{config.z_dim, config.width, image_channels()};
        n.generator = DcganGenerator(o).ptr();
        n.discriminator = DcganDiscriminator(o).ptr();
        dcgan_init(*n.generator);
        dcgan_init(*n.discriminator);
      }
      break;
    }
    case Objective::kVae:
    case Objective::kVaeganGanLeaks:
    case Objective::kVaeganLarsen: {
      const VaeOptions o{config.z_dim, config.width, image_channels()};
      n.encoder = ConvEncoder(o);
      n.generator = DcganGenerator(o).ptr();  // the decoder
      dcgan_init(*n.encoder);
      dcgan_init(*n.generator);
      if (n.info->objective == Objective::kVaeganLarsen) {
        n.discriminator = VaeganDiscriminator(o).ptr();
        dcgan_init(*n.discriminator);
      } else if (n.info->objective == Objective::kVaeganGanLeaks) {
        n.discriminator = PixelVaeganDiscriminator(o).ptr();
        n.latent_discriminator = LatentDiscriminator(config.z_dim);
      }
      break;
    }
    case Objective::kMedgan: {
      TORCH_CHECK(sample_shape.size() == 1, "model medgan: expects records of shape (features), got ",
                at::IntArrayRef(sample_shape.data(), sample_shape.size()));
      const MedganOptions o{.features = static_cast<int>(sample_shape[0]), .code_dim = config.z_dim,
                            .z_dim = config.z_dim, .hidden = 8 * config.width};
      n.autoencoder = MedganAutoencoder(o);
      n.generator = MedganGenerator(o, n.autoencoder->decoder_layer()).ptr();
      n.discriminator = MedganDiscriminator(o).ptr();
      break;
    }
    case Objective::kDenoising: {
      const DdpmOptions o{.unet = {.channels = image_channels(), .width = config.width, .blocks = config.unet_blocks,
                                   .attention = config.attention, .groups = kUnetGroups},
                          .schedule = beta_schedule_named(config.beta_schedule),
                          .steps = config.diffusion_steps,
                          .sampling_steps = config.sampling_steps};
      n.denoiser = Unet(o.unet);
      auto ddpm = Ddpm(o);
      ddpm->update_average(*n.denoiser, 0.0);  // the average starts at the initial weights
      n.generator = ddpm.ptr();
      break;
    }
  }
  return n;
}

void save_release(const Networks& networks, const std::filesystem::path& run_dir) {
  for (const auto& [name, module] : networks.modules()) {
    torch::serialize::OutputArchive archive;
    save_module(*module, archive);
    save_archive(archive, run_dir / (name + ".pt"));
  }
}

Networks load_release(const ModelConfig& config, std::span<const std::int64_t> sample_shape,
                      const std::filesystem::path& run_dir, const at::Device& device) {
  auto networks = make_networks(config, sample_shape);
  networks.to(device);
  load_weights(networks, run_dir);
  networks.generator->set_progress(1.0);
  if (networks.discriminator) networks.discriminator->set_progress(1.0);
  networks.train(false);
  return networks;
}

void load_weights(const Networks& networks, const std::filesystem::path& run_dir) {
  for (const auto& [name, module] : networks.modules()) {
    const auto file = run_dir / (name + ".pt");
    TORCH_CHECK(std::filesystem::exists(file), file.string(), ": missing; the run folder holds no trained ",
                networks.info->name, " (train it first)");
    try {
      torch::serialize::InputArchive archive;
      load_archive(archive, file);
      load_module(*module, archive);
    } catch (const c10::Error& e) {  // truncated, or another model's weights: say which file, not a LibTorch trace
      const std::string what = e.what_without_backtrace();
      throw UserError(fmt::format("{}: cannot be read as the {} of a {} ({}); delete its run folder and rerun to train "
                                  "it again",
                                  file.string(), name, networks.info->name, what.substr(0, what.find('\n'))));
    }
  }
}

at::Tensor realness(const Networks& networks, const at::Tensor& samples) {
  if (networks.discriminator) return networks.discriminator->forward(samples);
  TORCH_CHECK(networks.encoder, "realness: ", networks.info->name, " has neither a discriminator nor a likelihood bound");
  const auto posterior = networks.encoder.ptr()->forward(samples);
  return -vae_sample_loss(samples, networks.generator->forward(posterior.mean), posterior);
}

}  // namespace ganleaks::models
