#include "attacks/lpips.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"

namespace ganleaks::attacks {

struct Lpips::Impl {
  torch::jit::script::Module module;
  int channels, image_size;

  at::Tensor rgb(const at::Tensor& flat) const {
    const auto images = flat.reshape({flat.size(0), channels, image_size, image_size});
    return channels == 3 ? images : images.expand({flat.size(0), 3, image_size, image_size});
  }
};

Lpips::Lpips(const std::filesystem::path& file, int channels, int image_size, const at::Device& device)
    : impl_(std::make_unique<Impl>()) {
  impl_->channels = channels;
  impl_->image_size = image_size;
  if (!std::filesystem::is_regular_file(file)) {
    throw UserError(fmt::format("attack.lpips_model: {}: no such file; expected a TorchScript LPIPS model", file.string()));
  }
  try {
    impl_->module = torch::jit::load(file.string(), device);
  } catch (const std::exception& e) {
    throw UserError(fmt::format("attack.lpips_model: {}: not a loadable TorchScript model ({})", file.string(),
                                std::string(e.what()).substr(0, std::string(e.what()).find('\n'))));
  }
  impl_->module.eval();
  // Probe: two pairs of images must give two distances.
  torch::NoGradGuard no_grad;
  const auto probe = torch::zeros({2, channels * image_size * image_size}, torch::TensorOptions().device(device));
  at::Tensor out;
  try {
    out = (*this)(probe, probe + 0.5);
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw UserError(fmt::format("attack.lpips_model: {}: fails on (2, 3, {}, {}) images ({})", file.string(), image_size,
                                image_size, std::string(e.what()).substr(0, std::string(e.what()).find('\n'))));
  }
}

Lpips::~Lpips() = default;
Lpips::Lpips(Lpips&&) noexcept = default;

at::Tensor Lpips::operator()(const at::Tensor& a, const at::Tensor& b) const {
  const auto out = impl_->module.forward({impl_->rgb(a), impl_->rgb(b)});
  if (!out.isTensor()) {
    throw UserError("attack.lpips_model: the model must return a tensor of distances, got " + out.tagKind());
  }
  const auto d = out.toTensor();
  if (d.numel() != a.size(0) || (d.dim() != 1 && d.dim() != 4)) {
    throw UserError(fmt::format("attack.lpips_model: the model returned shape [{}] for {} image pairs; expected ({}) or "
                                "({}, 1, 1, 1)",
                                fmt::join(d.sizes(), ", "), a.size(0), a.size(0), a.size(0)));
  }
  return d.reshape({a.size(0)}).to(torch::kFloat32);
}

}  // namespace ganleaks::attacks
