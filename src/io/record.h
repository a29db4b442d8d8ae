#pragma once
// A job's record as a run trusts it: written whole or not at all (io/atomic_file.h) and sealed with a digest of
// everything in it, every dataset's values and every attribute, so that a record damaged afterwards (a bad disk, a
// stray write, a truncated copy) is found before its numbers reach results.h5. A record may also vouch for files
// beside it (a trained model's release): their sizes and digests, checked with it.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ganleaks::io {

// Writes `target` atomically with `fill(tmp)` (an HDF5 file it creates) and seals it.
void commit_record(const std::filesystem::path& target, const std::function<void(const std::filesystem::path& tmp)>& fill);

// The digest attribute sealed records carry at their root (hex of a 64-bit FNV-1a over the content).
inline constexpr const char* kContentDigest = "content_digest";
// The files a record vouches for, "name:size:digest;..." (files in the record's own folder).
inline constexpr const char* kFileDigests = "file_digests";

// Computes the digest of an HDF5 file's content (without the digest attribute) and writes it.
void seal_record(const std::filesystem::path& file);

struct RecordCheck {
  enum class Verdict { kIntact, kUnsealed, kBroken } verdict = Verdict::kIntact;
  std::string problem;  // kBroken: what is wrong, for a message
  bool trusted() const { return verdict != Verdict::kBroken; }
};
// kIntact: it reads whole and matches its digest (and the files it vouches for match theirs); kUnsealed: it reads
// but was written by a version that did not seal records (trusted as before); kBroken: it cannot be read, or its
// content or a file it vouches for differs from what was committed.
RecordCheck check_record(const std::filesystem::path& file);

// "size:digest" of a file's bytes; "" when it cannot be read.
std::string file_digest(const std::filesystem::path& file);
// The kFileDigests value for files of `folder`.
std::string file_digests(const std::filesystem::path& folder, const std::vector<std::string>& names);

}  // namespace ganleaks::io
