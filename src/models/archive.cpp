#include "models/archive.h"

#include <torch/serialize/output-archive.h>

#include <sstream>

#include "io/atomic_file.h"

namespace ganleaks::models {

void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& file) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  io::write_file(file, bytes.view());
}

}  // namespace ganleaks::models
