// Tabular loaders: well-formed HDF5 and CSV files load; malformed ones are refused with a message naming
// the file and the dataset, line or column.
#include "data/tabular.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "core/errors.h"
#include "io/h5.h"

namespace ganleaks::data {
namespace {
using ::testing::HasSubstr;

class Tabular : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ganleaks-test-tabular-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path csv(const std::string& name, const std::string& text) const {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path h5(const std::string& name, const std::vector<double>& values, std::int64_t rows,
                           std::int64_t cols, const std::vector<std::int64_t>* labels = nullptr) const {
    const auto path = dir_ / name;
    const auto file = io::H5File::create(path);
    file.root().write_matrix("features", values, rows, cols);
    if (labels) file.root().write("labels", std::span<const std::int64_t>(*labels));
    return path;
  }
  template <class F>
  std::string error_of(F load) const {
    try {
      load();
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }

  std::filesystem::path dir_;
};

TEST_F(Tabular, Hdf5FeaturesAndLabels) {
  const std::vector<std::int64_t> labels{3, 1};
  const auto set = load_tabular_h5(h5("ok.h5", {0, 1, 1, 0.5, 2, -3}, 2, 3, &labels));
  EXPECT_EQ(set.records, 2);
  EXPECT_EQ(set.features, 3);
  EXPECT_EQ(set.values, (std::vector<float>{0, 1, 1, 0.5f, 2, -3}));
  EXPECT_EQ(set.labels, labels);
  EXPECT_FALSE(is_binary(set));
  EXPECT_TRUE(is_binary(load_tabular_h5(h5("binary.h5", {0, 1, 1, 0}, 2, 2))));
}

TEST_F(Tabular, Hdf5MalformedFilesAreRefusedByName) {
  const auto nan_file = h5("nan.h5", {0, 1, std::nan(""), 0}, 2, 2);
  EXPECT_THAT(error_of([&] { load_tabular_h5(nan_file); }), HasSubstr("nan.h5: features[1, 0] = nan; expected finite"));
  const auto huge_file = h5("huge.h5", {0, 1, 4e38, 0}, 2, 2);  // a float64 that float32 cannot hold
  EXPECT_THAT(error_of([&] { load_tabular_h5(huge_file); }),
              HasSubstr("huge.h5: features[1, 0] = 4e+38; expected finite numbers within float32's range"));
  const std::vector<std::int64_t> short_labels{1};
  const auto labels_file = h5("labels.h5", {0, 1, 1, 0}, 2, 2, &short_labels);
  EXPECT_THAT(error_of([&] { load_tabular_h5(labels_file); }),
              HasSubstr("labels.h5: dataset 'labels' has shape (1); expected (2), one label per record"));
  EXPECT_THAT(error_of([&] { load_tabular_h5(labels_file, "records"); }),
              HasSubstr("no dataset 'records'; found: features, labels"));
  {
    const auto file = io::H5File::create(dir_ / "flat.h5");
    const std::vector<double> flat{1, 2, 3};
    file.root().write("features", std::span<const double>(flat));
  }
  EXPECT_THAT(error_of([&] { load_tabular_h5(dir_ / "flat.h5"); }),
              HasSubstr("flat.h5: dataset 'features' has 1 dimension(s); expected 2 (records × features)"));
  const auto not_h5 = csv("not.h5", "1,2\n");
  EXPECT_THAT(error_of([&] { load_tabular_h5(not_h5); }), HasSubstr("not.h5: cannot read as HDF5 tabular data"));
  EXPECT_THAT(error_of([&] { load_tabular_h5(dir_ / "missing.h5"); }), HasSubstr("missing.h5: no such file"));
}

TEST_F(Tabular, CsvWithHeaderAndLabelColumn) {
  const auto set = load_tabular_csv(csv("ok.csv", "lat, lon ,visits,label\n1.5,2,0,7\n-3,4e2,+1,2\n\n"), "label");
  EXPECT_EQ(set.records, 2);
  EXPECT_EQ(set.features, 3);
  EXPECT_EQ(set.values, (std::vector<float>{1.5f, 2, 0, -3, 400, 1}));
  EXPECT_EQ(set.labels, (std::vector<std::int64_t>{7, 2}));
  EXPECT_EQ(set.columns, (std::vector<std::string>{"lat", "lon", "visits"}));
  const auto plain = load_tabular_csv(csv("plain.csv", "0,1\n1,1\n"));
  EXPECT_EQ(plain.records, 2);
  EXPECT_TRUE(plain.labels.empty());
  EXPECT_TRUE(is_binary(plain));
}

TEST_F(Tabular, CsvMalformedFilesAreRefusedByLineAndColumn) {
  auto error = [&](const std::string& text, const std::string& label = "") {
    const auto file = csv("bad.csv", text);
    return error_of([&] { load_tabular_csv(file, label); });
  };
  EXPECT_THAT(error("a,b\n1,2\n3\n"), HasSubstr("bad.csv: line 3: 1 fields; expected 2 (as the first line)"));
  EXPECT_THAT(error("a,b\n1,x\n"), HasSubstr("line 2: field 2 ('b') = 'x' is not a finite number"));
  EXPECT_THAT(error("1,nan\n"), HasSubstr("line 1: field 2 = 'nan' is not a finite number"));
  EXPECT_THAT(error("1,\n"), HasSubstr("line 1: field 2 = '' is not a finite number"));
  // Beyond float32's range a value would become inf in the tensors: refused where it is read.
  EXPECT_THAT(error("1,1e39\n"), HasSubstr("line 1: field 2 = '1e39' is not a finite number within float32's range"));
  EXPECT_THAT(error("1,-3.5e38\n"), HasSubstr("within float32's range"));
  EXPECT_THAT(error("1,2\n\n3,4\n"), HasSubstr("line 2: empty line inside the data"));
  EXPECT_THAT(error("a,b\n"), HasSubstr("no records"));
  EXPECT_THAT(error("a,b\n1,2\n", "c"), HasSubstr("line 1: no column 'c' in the header"));
  EXPECT_THAT(error("1,2\n", "label"), HasSubstr("label column 'label' given but the file has no header"));
  EXPECT_THAT(error("x,label\n1,2.5\n", "label"), HasSubstr("line 2: label '2.5' is not an integer"));
  EXPECT_THAT(error("x,label\n1,1.1e19\n", "label"), HasSubstr("label '1.1e19' is not an integer of at most 2^53"));  // fuzz_csv
  EXPECT_THAT(error_of([&] { load_tabular_csv(dir_ / "missing.csv"); }), HasSubstr("missing.csv: cannot open"));
}

TEST(BinarisedImages, ThresholdsPixelsAndKeepsLabels) {
  ImageSet images{.count = 2, .rows = 1, .cols = 3, .pixels = {0, 127, 128, 255, 3, 200}, .labels = {4, 9}};
  const auto set = binarised_images(images);
  EXPECT_EQ(set.records, 2);
  EXPECT_EQ(set.features, 3);
  EXPECT_EQ(set.values, (std::vector<float>{0, 0, 1, 1, 0, 1}));
  EXPECT_EQ(set.labels, (std::vector<std::int64_t>{4, 9}));
  EXPECT_TRUE(is_binary(set));
}

}  // namespace
}  // namespace ganleaks::data
