#include "data/idx.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/errors.h"

namespace ganleaks::data {
namespace {
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// IDX bytes: magic 0x0000 <type> <ndim>, big-endian sizes, payload.
Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& payload, std::uint8_t type = 0x08) {
  Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(d >> shift));
  }
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes iota_bytes(std::size_t n, std::uint8_t mod = 251) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i % mod);
  return b;
}

void write_gz(const fs::path& file, const Bytes& bytes) {
  gzFile gz = gzopen(file.string().c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())), int(bytes.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
}

void write_raw(const fs::path& file, const Bytes& bytes) {
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

Bytes read_raw(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs f, expecting a DataError whose message names `file` and contains `what`.
void expect_data_error(const std::function<void()>& f, const fs::path& file, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no DataError for " << file;
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("ganleaks-idx-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path gz(const std::string& name, const Bytes& bytes) {
    const fs::path p = dir_ / name;
    write_gz(p, bytes);
    return p;
  }
  void expect_read_error(const fs::path& file, const std::string& what) {
    expect_data_error([&] { read_idx_gz(file); }, file, what);
  }

  // A fake Fashion-MNIST folder: `train` records of 2x3 pixels and `test` records.
  void fake_fashion(std::uint32_t train, std::uint32_t test) {
    gz("train-images-idx3-ubyte.gz", idx_bytes({train, 2, 3}, iota_bytes(train * 6)));
    gz("train-labels-idx1-ubyte.gz", idx_bytes({train}, iota_bytes(train, 10)));
    gz("t10k-images-idx3-ubyte.gz", idx_bytes({test, 2, 3}, Bytes(test * 6, 200)));
    gz("t10k-labels-idx1-ubyte.gz", idx_bytes({test}, Bytes(test, 9)));
  }

  fs::path dir_;
};

TEST_F(IdxTest, Valid3DRoundTrips) {
  const Bytes payload = iota_bytes(2 * 3 * 4);
  const IdxArray a = read_idx_gz(gz("a.gz", idx_bytes({2, 3, 4}, payload)));
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(a.data, payload);
}

TEST_F(IdxTest, Valid1DAndLargeDimensionsRoundTrip) {
  const Bytes payload = iota_bytes(300000);
  const IdxArray a = read_idx_gz(gz("a.gz", idx_bytes({300000}, payload)));
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{300000}));
  EXPECT_EQ(a.data, payload);
}

TEST_F(IdxTest, BadMagicThrows) {
  Bytes b = idx_bytes({2, 2}, Bytes(4));
  b[0] = 0x12;
  expect_read_error(gz("a.gz", b), "bad IDX magic 0x12000802");
}

TEST_F(IdxTest, WrongTypeCodeThrows) {
  expect_read_error(gz("a.gz", idx_bytes({2, 2}, Bytes(4), 0x09)), "bad IDX magic 0x00000902; expected 0x000008NN");
}

TEST_F(IdxTest, BadDimensionCountThrows) {
  expect_read_error(gz("zero.gz", idx_bytes({}, {})), "bad IDX magic 0x00000800");
  expect_read_error(gz("five.gz", idx_bytes({1, 1, 1, 1, 1}, Bytes(1))), "bad IDX magic 0x00000805");
}

TEST_F(IdxTest, TruncatedHeaderThrows) {
  expect_read_error(gz("empty.gz", {}), "truncated IDX header");
  expect_read_error(gz("short.gz", {0, 0, 8, 3, 0, 0, 0, 2, 0}), "truncated IDX header");
}

TEST_F(IdxTest, TruncatedPayloadThrows) {
  expect_read_error(gz("a.gz", idx_bytes({2, 3, 4}, Bytes(23))), "truncated IDX payload: 23 bytes; expected 24 for dims 2x3x4");
}

TEST_F(IdxTest, TrailingBytesThrow) {
  expect_read_error(gz("a.gz", idx_bytes({2, 3, 4}, Bytes(25))), "trailing data");
}

TEST_F(IdxTest, ZeroDimensionThrows) {
  expect_read_error(gz("a.gz", idx_bytes({2, 0, 4}, {})), "dimension 1 has size 0");
}

TEST_F(IdxTest, MissingFileThrows) { expect_read_error(dir_ / "missing.gz", "file not found"); }

TEST_F(IdxTest, NonGzipGarbageThrows) {
  const fs::path p = dir_ / "garbage.gz";
  write_raw(p, idx_bytes({2, 2}, Bytes(4)));  // a valid IDX file, just not compressed
  expect_read_error(p, "not a gzip file");
}

TEST_F(IdxTest, CutGzipStreamThrows) {
  const fs::path whole = gz("whole.gz", idx_bytes({1000}, iota_bytes(1000)));
  Bytes b = read_raw(whole);
  b.resize(b.size() / 2);
  const fs::path p = dir_ / "cut.gz";
  write_raw(p, b);
  expect_read_error(p, "gzip stream");
}

TEST_F(IdxTest, CorruptGzipStreamThrows) {
  const fs::path whole = gz("whole.gz", idx_bytes({1000}, iota_bytes(1000)));
  Bytes b = read_raw(whole);
  for (std::size_t i = 12; i < b.size() - 8; ++i) b[i] = 0xFF;  // keep the gzip header, wreck the data
  const fs::path p = dir_ / "corrupt.gz";
  write_raw(p, b);
  expect_read_error(p, "gzip stream");
}

TEST_F(IdxTest, FashionPools) {
  fake_fashion(5, 3);
  const ImageSet train = load_fashion_mnist(dir_, "train");
  EXPECT_EQ(train.count, 5);
  EXPECT_EQ(train.rows, 2);
  EXPECT_EQ(train.cols, 3);
  EXPECT_EQ(train.pixels, iota_bytes(30));
  EXPECT_EQ(train.labels, (Bytes{0, 1, 2, 3, 4}));

  const ImageSet test = load_fashion_mnist(dir_, "test");
  EXPECT_EQ(test.count, 3);
  EXPECT_EQ(test.pixels, Bytes(18, 200));
  EXPECT_EQ(test.labels, Bytes(3, 9));

  const ImageSet all = load_fashion_mnist(dir_, "all");
  EXPECT_EQ(all.count, 8);
  EXPECT_EQ(all.rows, 2);
  EXPECT_EQ(all.cols, 3);
  Bytes pixels = iota_bytes(30);
  pixels.insert(pixels.end(), 18, 200);
  EXPECT_EQ(all.pixels, pixels);
  EXPECT_EQ(all.labels, (Bytes{0, 1, 2, 3, 4, 9, 9, 9}));
}

TEST_F(IdxTest, FashionMismatchedCountsThrow) {
  fake_fashion(5, 3);
  const fs::path labels = gz("train-labels-idx1-ubyte.gz", idx_bytes({4}, Bytes(4)));
  expect_data_error([&] { load_fashion_mnist(dir_, "train"); }, labels, "4 labels; expected one per image, 5");
}

TEST_F(IdxTest, FashionBadShapesAndLabelsThrow) {
  fake_fashion(5, 3);
  const fs::path labels = gz("t10k-labels-idx1-ubyte.gz", idx_bytes({3}, {1, 10, 2}));
  expect_data_error([&] { load_fashion_mnist(dir_, "test"); }, labels, "label 10 at index 1; expected 0..9");
  const fs::path images = gz("train-images-idx3-ubyte.gz", idx_bytes({5, 6}, Bytes(30)));
  expect_data_error([&] { load_fashion_mnist(dir_, "train"); }, images, "expected 3-D");
  const fs::path test_images = gz("t10k-images-idx3-ubyte.gz", idx_bytes({3, 3, 2}, Bytes(18)));
  gz("train-images-idx3-ubyte.gz", idx_bytes({5, 2, 3}, Bytes(30)));
  expect_data_error([&] { load_fashion_mnist(dir_, "all"); }, test_images, "expected 2x3");
}

TEST_F(IdxTest, FashionMissingFolderOrFileThrows) {
  expect_data_error([&] { load_fashion_mnist(dir_ / "nope", "train"); }, dir_ / "nope", "dataset-fashion-mnist");
  fake_fashion(5, 3);
  fs::remove(dir_ / "t10k-labels-idx1-ubyte.gz");
  expect_data_error([&] { load_fashion_mnist(dir_, "all"); }, dir_ / "t10k-labels-idx1-ubyte.gz",
                    "install Debian's dataset-fashion-mnist or set data.path");
  EXPECT_NO_THROW(load_fashion_mnist(dir_, "train"));
}

TEST_F(IdxTest, FashionUnknownPoolThrows) {
  fake_fashion(5, 3);
  EXPECT_THROW(load_fashion_mnist(dir_, "validation"), ConfigError);
}

TEST(FashionMnistReal, LoadsDebianDataset) {
  const fs::path dir{kFashionMnistDefaultDir};
  if (!fs::exists(dir / "train-images-idx3-ubyte.gz")) GTEST_SKIP() << "no Fashion-MNIST in " << dir;
  const ImageSet train = load_fashion_mnist(dir, "train");
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(train.rows, 28);
  EXPECT_EQ(train.cols, 28);
  EXPECT_EQ(train.pixels.size(), 60000u * 28 * 28);
  std::array<int, 10> per_class{};
  for (std::uint8_t l : train.labels) ++per_class.at(l);
  for (int c : per_class) EXPECT_EQ(c, 6000);
}

}  // namespace
}  // namespace ganleaks::data
