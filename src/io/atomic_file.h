#pragma once
// Commit a file atomically: write it under a temporary name in the same folder, fsync, rename. A run
// killed mid-write leaves the previous version (or nothing), never a torn file.
#include <filesystem>
#include <functional>

namespace ganleaks::io {

void write_atomically(const std::filesystem::path& target,
                      const std::function<void(const std::filesystem::path& tmp)>& write);

}  // namespace ganleaks::io
