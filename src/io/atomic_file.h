#pragma once
// Commit a file atomically: write it under a temporary name in the same folder, fsync, rename. A run
// killed mid-write leaves the previous version (or nothing), never a torn file. A write that fails for want of
// space (ENOSPC, EDQUOT, or the file system full) removes its temporary file and becomes a UserError that names the
// file and says "no space left" (exit 2), whatever wrote it (HDF5, LibTorch, a report); other failures are rethrown.
#include <filesystem>
#include <cstdint>
#include <functional>
#include <string_view>

namespace ganleaks::io {

// "<target>.tmp-<host>-<pid>": unique per process, and telling which temporaries a dead process left behind.
std::filesystem::path temporary_name(const std::filesystem::path& target);

// UserError ("no space left", naming `target`) unless its folder's file system has `bytes` free: for writes that a
// full disk would not fail cleanly (HDF5 copying objects between files).
void ensure_space(const std::filesystem::path& target, std::uintmax_t bytes);

void write_atomically(const std::filesystem::path& target,
                      const std::function<void(const std::filesystem::path& tmp)>& write);

// write_atomically with `bytes` as the content, every write(2) checked (text reports, serialised models).
void write_file(const std::filesystem::path& target, std::string_view bytes);

}  // namespace ganleaks::io
