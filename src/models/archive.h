#pragma once
// LibTorch archives written like every other file: whole or not at all, and a full disk is a one-line error. LibTorch
// finishes a file in a destructor, where a failed write can only terminate the process, so the archive is
// serialised in memory first and written by io::write_file.
//
// Modules go in and out device-independently: save_module writes host copies (a model trained on a GPU loads on a
// machine without one), load_module copies the saved values into the module wherever its tensors live. The layout
// is LibTorch's own Module::save, so files written by either read with either.
#include <filesystem>

namespace torch::nn {
class Module;
}
namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace ganleaks::models {

void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& file);
// `file` read with every tensor placed on the CPU.
void load_archive(torch::serialize::InputArchive& archive, const std::filesystem::path& file);

void save_module(const torch::nn::Module& module, torch::serialize::OutputArchive& archive);
void load_module(torch::nn::Module& module, torch::serialize::InputArchive& archive);

}  // namespace ganleaks::models
