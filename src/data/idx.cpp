#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "core/errors.h"

namespace ganleaks::data {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& file, const std::string& what) {
  throw DataError(file.string() + ": " + what);
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Reads up to n bytes and returns how many arrived (fewer only at the end of the data). gzread
// reports a gzip stream cut short as a plain end of file, so the error state is checked too.
std::size_t read_bytes(gzFile gz, const fs::path& file, std::uint8_t* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, std::size_t{1} << 20));
    const int r = gzread(gz, out + got, chunk);
    int err = Z_OK;
    const char* msg = gzerror(gz, &err);
    if (r < 0 || err != Z_OK) {
      fail(file, std::string("corrupt or truncated gzip stream (") +
                     (err == Z_ERRNO ? std::strerror(errno) : msg) + ")");
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

void require_file(const fs::path& file, std::string_view hint) {
  std::error_code ec;
  if (!fs::exists(file, ec)) fail(file, std::string("file not found") + (hint.empty() ? "" : "; ") + std::string(hint));
  if (!fs::is_regular_file(file, ec)) fail(file, "not a regular file");
}

constexpr std::string_view kInstallHint = "install Debian's dataset-fashion-mnist or set data.path";

}  // namespace

IdxArray read_idx_gz(const fs::path& file) {
  require_file(file, "");
  const std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(file.string().c_str(), "rb"), gzclose);
  if (!gz) fail(file, std::string("cannot open: ") + std::strerror(errno));
  // zlib would otherwise pass an uncompressed file through unchanged ("transparent" reading).
  if (gzdirect(gz.get()) == 1) fail(file, "not a gzip file; expected a gzip-compressed IDX file");

  std::uint8_t head[4];
  if (read_bytes(gz.get(), file, head, 4) != 4) fail(file, "truncated IDX header; expected a 4-byte magic");
  const std::uint32_t magic = big_endian32(head);
  if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] < 1 || head[3] > 4) {
    fail(file, "bad IDX magic " + hex32(magic) +
                   "; expected 0x000008NN (unsigned byte data, NN = 01..04 dimensions)");
  }

  IdxArray out;
  std::uint64_t total = 1;
  for (int i = 0; i < head[3]; ++i) {
    std::uint8_t size[4];
    if (read_bytes(gz.get(), file, size, 4) != 4) {
      fail(file, "truncated IDX header; expected " + std::to_string(head[3]) + " dimension sizes");
    }
    const std::uint32_t d = big_endian32(size);
    if (d == 0) fail(file, "IDX dimension " + std::to_string(i) + " has size 0; expected sizes > 0");
    // Each size is < 2^32, so capping the running product at 2^62 keeps it from overflowing.
    if (total > (std::uint64_t{1} << 62) / d) fail(file, "IDX dimensions too large");
    total *= d;
    out.dims.push_back(d);
  }

  // Grow as data arrives rather than trusting the header with one huge allocation.
  const std::size_t expected = total;
  out.data.reserve(std::min<std::size_t>(expected, std::size_t{1} << 28));
  while (out.data.size() < expected) {
    const std::size_t old = out.data.size();
    const std::size_t want = std::min<std::size_t>(expected - old, std::size_t{1} << 24);
    out.data.resize(old + want);
    const std::size_t got = read_bytes(gz.get(), file, out.data.data() + old, want);
    if (got < want) {
      fail(file, "truncated IDX payload: " + std::to_string(old + got) + " bytes; expected " +
                     std::to_string(expected) + " for dims " + dims_text(out.dims));
    }
  }
  std::uint8_t extra;
  if (read_bytes(gz.get(), file, &extra, 1) != 0) {
    fail(file, "trailing data after the " + std::to_string(expected) + "-byte IDX payload; expected exactly " +
                   std::to_string(expected) + " bytes for dims " + dims_text(out.dims));
  }
  return out;
}

ImageSet load_fashion_mnist(const fs::path& dir, std::string_view pool) {
  if (pool != "train" && pool != "test" && pool != "all") {
    throw ConfigError("unknown Fashion-MNIST pool \"" + std::string(pool) +
                      "\"; expected \"train\", \"test\" or \"all\"");
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir, "Fashion-MNIST folder not found; " + std::string(kInstallHint));

  ImageSet set;
  // Appends one part ("train" or "t10k") to set, checking it against itself and earlier parts.
  const auto append = [&](const std::string& prefix) {
    const fs::path image_file = dir / (prefix + "-images-idx3-ubyte.gz");
    const fs::path label_file = dir / (prefix + "-labels-idx1-ubyte.gz");
    require_file(image_file, kInstallHint);
    require_file(label_file, kInstallHint);
    IdxArray images = read_idx_gz(image_file);
    IdxArray labels = read_idx_gz(label_file);
    if (images.dims.size() != 3) {
      fail(image_file, "images are " + std::to_string(images.dims.size()) + "-D; expected 3-D (count x rows x cols)");
    }
    if (labels.dims.size() != 1) {
      fail(label_file, "labels are " + std::to_string(labels.dims.size()) + "-D; expected 1-D");
    }
    if (images.dims[0] != labels.dims[0]) {
      fail(label_file, std::to_string(labels.dims[0]) + " labels; expected one per image, " +
                           std::to_string(images.dims[0]) + " in " + image_file.string());
    }
    if (set.count > 0 && (images.dims[1] != set.rows || images.dims[2] != set.cols)) {
      fail(image_file, "images are " + std::to_string(images.dims[1]) + "x" + std::to_string(images.dims[2]) +
                           "; expected " + std::to_string(set.rows) + "x" + std::to_string(set.cols) +
                           " like the training images");
    }
    const auto bad = std::find_if(labels.data.begin(), labels.data.end(), [](std::uint8_t l) { return l >= 10; });
    if (bad != labels.data.end()) {
      fail(label_file, "label " + std::to_string(*bad) + " at index " +
                           std::to_string(bad - labels.data.begin()) + "; expected 0..9");
    }
    set.count += images.dims[0];
    set.rows = images.dims[1];
    set.cols = images.dims[2];
    set.pixels.insert(set.pixels.end(), images.data.begin(), images.data.end());
    set.labels.insert(set.labels.end(), labels.data.begin(), labels.data.end());
  };
  if (pool != "test") append("train");
  if (pool != "train") append("t10k");
  return set;
}

}  // namespace ganleaks::data
