#pragma once
// LibTorch archives written like every other file: whole or not at all, and a full disk is a one-line error. LibTorch
// finishes a file in a destructor, where a failed write can only terminate the process, so the archive is
// serialised in memory first and written by io::write_file.
#include <filesystem>

namespace torch::serialize {
class OutputArchive;
}

namespace ganleaks::models {

void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& file);

}  // namespace ganleaks::models
