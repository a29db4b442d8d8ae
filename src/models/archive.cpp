#include "models/archive.h"

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <sstream>

#include "dist/device.h"
#include "io/atomic_file.h"

namespace ganleaks::models {

void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& file) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  io::write_file(file, bytes.view());
}

void load_archive(torch::serialize::InputArchive& archive, const std::filesystem::path& file) {
  archive.load_from(file.string(), at::Device(at::kCPU));
}

void save_module(const torch::nn::Module& module, torch::serialize::OutputArchive& archive) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) archive.write(p.key(), dist::to_host(p.value()));
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    archive.write(b.key(), dist::to_host(b.value()), /*is_buffer=*/true);
  }
  for (const auto& child : module.named_children()) {
    if (!child.value()->is_serializable()) continue;
    torch::serialize::OutputArchive part(archive.compilation_unit());
    save_module(*child.value(), part);
    archive.write(child.key(), part);
  }
}

void load_module(torch::nn::Module& module, torch::serialize::InputArchive& archive) {
  torch::NoGradGuard no_grad;
  const auto read_into = [&](const std::string& key, at::Tensor& target, bool is_buffer) {
    at::Tensor saved;
    archive.read(key, saved, is_buffer);
    TORCH_CHECK(saved.sizes() == target.sizes(), "'", key, "' holds shape ", saved.sizes(), ", the module expects ",
                target.sizes());
    target.copy_(saved);
  };
  for (auto& p : module.named_parameters(/*recurse=*/false)) read_into(p.key(), p.value(), false);
  for (auto& b : module.named_buffers(/*recurse=*/false)) read_into(b.key(), b.value(), true);
  for (const auto& child : module.named_children()) {
    if (!child.value()->is_serializable()) continue;
    torch::serialize::InputArchive part;
    archive.read(child.key(), part);
    load_module(*child.value(), part);
  }
}

}  // namespace ganleaks::models
