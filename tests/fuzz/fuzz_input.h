#pragma once
// The fuzz targets' shared piece: readers that take a path get the input as a file (under TMPDIR, one per
// process, rewritten for every input).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace ganleaks::fuzz {

inline std::filesystem::path input_file(const std::uint8_t* data, std::size_t size, const std::string& suffix) {
  const auto path = std::filesystem::temp_directory_path() / ("ganleaks-fuzz-" + std::to_string(::getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                 static_cast<std::streamsize>(size));
  return path;
}

}  // namespace ganleaks::fuzz
