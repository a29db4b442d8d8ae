#pragma once
// Readers for gzip-compressed IDX files, the format of MNIST and Fashion-MNIST
// (http://yann.lecun.com/exdb/mnist/): a 4-byte magic 0x000008NN (unsigned bytes, NN dimensions),
// NN big-endian 32-bit sizes, then the row-major payload. Every defect in a file throws DataError
// whose message starts with the file's path.
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace ganleaks::data {

struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;  // prod(dims) bytes, row-major
};

// Reads a .gz IDX file of unsigned bytes (type code 0x08, 1 to 4 dimensions, all sizes > 0).
// The payload must hold exactly prod(dims) bytes: truncated or trailing data is an error, and so is
// a file that is not gzip-compressed.
IdxArray read_idx_gz(const std::filesystem::path& file);

struct ImageSet {
  std::int64_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // count*rows*cols, row-major
  std::vector<std::uint8_t> labels;  // count, each 0..9
};

// Fashion-MNIST from a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (Debian's dataset-fashion-mnist puts them
// in kFashionMnistDefaultDir). pool: "train" (60000 records), "test" (10000) or "all" (train
// followed by test). Checks that images are 3-D, labels 1-D, the counts agree and labels are < 10.
// A missing folder or file, or a malformed one, throws DataError; an unknown pool throws ConfigError.
ImageSet load_fashion_mnist(const std::filesystem::path& dir, std::string_view pool);

inline constexpr std::string_view kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";

}  // namespace ganleaks::data
