#include "io/h5.h"

#include <gtest/gtest.h>

#include <cmath>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace ganleaks::io {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ganleaks-test-h5-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

TEST(H5, DatasetsAndAttributesRoundTrip) {
  const auto path = temp_file("roundtrip.h5");
  {
    const auto file = H5File::create(path);
    const auto g = file.root().create_group("attacks/fbb-n64-s0-cal");
    const std::vector<double> scores{-1.5, 0.25, 3.0};
    const std::vector<std::int64_t> index{7, 8, 9};
    const std::vector<std::uint8_t> member{1, 0, 1};
    g.write("score", std::span<const double>(scores));
    g.write("sample_index", std::span<const std::int64_t>(index));
    g.write("is_member", std::span<const std::uint8_t>(member));
    g.write("empty", std::span<const double>());
    g.set_attr("auc", 0.75);
    g.set_attr("train_size", std::int64_t{64});
    g.set_attr("setting", "fbb");
    g.set_attr("dp_epsilon", std::nan(""));
  }
  const auto file = H5File::open_read(path);
  ASSERT_TRUE(file.root().has("attacks"));
  const auto g = file.root().open_group("attacks").open_group("fbb-n64-s0-cal");
  EXPECT_EQ(g.read_doubles("score"), (std::vector<double>{-1.5, 0.25, 3.0}));
  EXPECT_EQ(g.read_int64s("sample_index"), (std::vector<std::int64_t>{7, 8, 9}));
  EXPECT_EQ(g.read_bytes("is_member"), (std::vector<std::uint8_t>{1, 0, 1}));
  EXPECT_TRUE(g.read_doubles("empty").empty());
  EXPECT_DOUBLE_EQ(g.attr_double("auc"), 0.75);
  EXPECT_EQ(g.attr_int("train_size"), 64);
  EXPECT_EQ(g.attr_string("setting"), "fbb");
  EXPECT_TRUE(std::isnan(g.attr_double("dp_epsilon")));
  EXPECT_FALSE(g.has_attr("nope"));
  EXPECT_THROW(g.attr_double("nope"), std::runtime_error);
  EXPECT_EQ(file.root().open_group("attacks").children(), std::vector<std::string>{"fbb-n64-s0-cal"});
}

TEST(H5, CopyGroupBetweenFiles) {
  const auto src_path = temp_file("src.h5"), dst_path = temp_file("dst.h5");
  {
    const auto src = H5File::create(src_path);
    const std::vector<float> loss{1.0f, 0.5f};
    src.root().write("loss_d", std::span<const float>(loss));
    src.root().set_attr("role", "victim");
  }
  {
    const auto src = H5File::open_read(src_path);
    const auto dst = H5File::create(dst_path);
    copy_group(src, "/", dst, "runs/victim-n64-s0");
  }
  const auto dst = H5File::open_read(dst_path);
  const auto run = dst.root().open_group("runs").open_group("victim-n64-s0");
  EXPECT_EQ(run.attr_string("role"), "victim");
  EXPECT_EQ(run.read_doubles("loss_d"), (std::vector<double>{1.0, 0.5}));
}

TEST(H5, OpeningAMissingOrForeignFileFailsWithItsName) {
  const auto missing = temp_file("missing.h5");
  try {
    H5File::open_read(missing);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
  const auto text = temp_file("not-hdf5.h5");
  std::ofstream(text) << "plain text";
  EXPECT_THROW(H5File::open_read(text), std::runtime_error);
}

}  // namespace
}  // namespace ganleaks::io
