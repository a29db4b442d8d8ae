// Checkpoints of a training run (train/run_state.h): written atomically every checkpoint_every steps and at a
// signal, read back when a run resumes, on any device: networks are saved as CPU tensors, optimiser states as they
// are, and everything is read onto the run's device.
#include <torch/serialize.h>

#include "dist/device.h"
#include "models/archive.h"
#include "train/run_state.h"

namespace ganleaks::train {
namespace {

// host: what a checkpoint holds besides the networks and optimisers is host data (texts, losses, states).
torch::Tensor text_tensor(const std::string& text) {
  return torch::from_blob(const_cast<char*>(text.data()), {static_cast<long>(text.size())}, torch::kUInt8).clone();
}
std::string tensor_text(const torch::Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.data_ptr<std::uint8_t>()), t.numel());
}

std::vector<float> float_vector(const torch::Tensor& t) {
  return {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()};
}

}  // namespace

void save_checkpoint(const std::filesystem::path& file, const std::string& settings, TrainState& s,
                     const BatchSampler& sampler, std::optional<DpState>& dp, std::int64_t iteration,
                     const RunResult& result) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, module] : s.nets.modules()) {
    torch::serialize::OutputArchive part;
    models::save_module(*module, part);
    archive.write(name, part);
  }
  for (const auto& [name, optimizer] : s.optimizers) {
    torch::serialize::OutputArchive part;
    optimizer->save(part);
    archive.write(name, part);
  }
  // host: the run's own bookkeeping, kept on the CPU.
  archive.write("settings", text_tensor(settings));
  archive.write("iteration", torch::tensor(iteration));
  archive.write("noise_state", s.noise.get_state());
  archive.write("sampler_state", text_tensor(sampler.state()));
  archive.write("loss_d", torch::tensor(result.loss_d));
  archive.write("loss_g", torch::tensor(result.loss_g));
  if (dp) {
    archive.write("dp_sampler_state", text_tensor(dp->sampler.state()));
    if (!dp->noise.secure_source()) archive.write("dp_noise_state", dp->noise.generator().get_state());
    archive.write("dp_batch_size", torch::tensor(result.dp_batch_size));
    archive.write("dp_clipped_fraction", torch::tensor(result.dp_clipped_fraction));
  }
  models::save_archive(archive, file);
}

std::int64_t load_checkpoint(const std::filesystem::path& file, TrainState& s, BatchSampler& sampler,
                             std::optional<DpState>& dp, RunResult& result) {
  torch::serialize::InputArchive archive;
  archive.load_from(file.string(), s.g().device());  // optimiser states land there
  for (const auto& [name, module] : s.nets.modules()) {
    torch::serialize::InputArchive part;
    archive.read(name, part);
    models::load_module(*module, part);
  }
  for (const auto& [name, optimizer] : s.optimizers) {
    torch::serialize::InputArchive part;
    archive.read(name, part);
    optimizer->load(part);
  }
  torch::Tensor iteration, noise_state, sampler_state, loss_d, loss_g;
  archive.read("iteration", iteration);
  archive.read("noise_state", noise_state);
  archive.read("sampler_state", sampler_state);
  archive.read("loss_d", loss_d);
  archive.read("loss_g", loss_g);
  s.noise.set_state(dist::to_host(noise_state));
  sampler.restore(tensor_text(dist::to_host(sampler_state)));
  result.loss_d = float_vector(dist::to_host(loss_d));
  result.loss_g = float_vector(dist::to_host(loss_g));
  if (dp) {
    torch::Tensor dp_sampler, dp_noise, dp_batch, dp_clipped;
    archive.read("dp_sampler_state", dp_sampler);
    dp->sampler.restore(tensor_text(dist::to_host(dp_sampler)));
    if (!dp->noise.secure_source()) {
      archive.read("dp_noise_state", dp_noise);
      dp->noise.generator().set_state(dist::to_host(dp_noise));
    }
    archive.read("dp_batch_size", dp_batch);
    archive.read("dp_clipped_fraction", dp_clipped);
    result.dp_batch_size = float_vector(dist::to_host(dp_batch));
    result.dp_clipped_fraction = float_vector(dist::to_host(dp_clipped));
  }
  return dist::to_host(iteration).item<std::int64_t>();
}

std::string checkpoint_problem(const std::filesystem::path& file, const std::string& settings) {
  torch::Tensor written;
  try {
    torch::serialize::InputArchive archive;
    models::load_archive(archive, file);
    if (!archive.try_read("settings", written)) return "holds no record of the settings it was written with";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    return "cannot be read (" + what.substr(0, what.find('\n')) + ")";
  }
  return tensor_text(written) == settings ? "" : "was written with other settings (the config changed since)";
}

}  // namespace ganleaks::train
