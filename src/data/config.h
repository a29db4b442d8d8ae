#pragma once
// [data]: where the records come from and how members are chosen (data/pool.h, data/splits.h).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace ganleaks {

struct DataConfig {
  static constexpr std::string_view kSection = "data";
  static constexpr std::array<std::string_view, 3> kDatasets{"fashion-mnist", "fashion-mnist-binary", "tabular"};
  static constexpr std::array<std::string_view, 3> kPools{"train", "test", "all"};
  static constexpr std::array<std::int64_t, 2> kImageSizes{28, 32};
  static constexpr std::array<std::string_view, 2> kMemberSelections{"random", "class"};

  std::string dataset = "fashion-mnist";
  std::string path = "/usr/share/datasets/fashion-mnist";
  std::string pool = "train";
  int image_size = 32;
  std::int64_t reference_size = 1000;
  std::string member_selection = "random";
  std::vector<std::int64_t> member_classes{0, 1, 2, 3, 4};

  // Images (Fashion-MNIST), as opposed to records (binarised Fashion-MNIST, a user's table).
  bool images() const { return dataset == "fashion-mnist"; }

  void visit(KeyVisitor& v) {
    v.choice("dataset", dataset, kDatasets,
             "where the records come from: Fashion-MNIST images; the same with every pixel thresholded at 128 (784 "
             "binary features: the honest stand-in for binary medical records, not medical data); or a user's tabular "
             "file (`path`)");
    v.text("path", path, kNonEmpty,
           "Fashion-MNIST: directory with its files; `tabular`: an `.h5`/`.hdf5` file with a 2-D numeric dataset "
           "`features` (records × features) and an optional 1-D integer dataset `labels`, or a `.csv` file (optional "
           "header; an optional `label` column holds the labels). Malformed files (NaN, ragged rows, wrong rank or "
           "dtype) are refused with the file, dataset/line and column named");
    v.choice("pool", pool, kPools, "which Fashion-MNIST files form the pool that records are drawn from");
    v.integer("image_size", image_size, kImageSizes, "image side in pixels; 32 pads the 28x28 images by 2 pixels a side");
    v.integer("reference_size", reference_size, {1, 1'000'000},
              "records for the reference model G_r (calibration), disjoint from victim training data and queries");
    v.choice("member_selection", member_selection, kMemberSelections,
             "how victim training records (members) are picked from the pool: at random, or only from the classes in "
             "`member_classes` with non-member queries from the other classes (the analogue of GAN-Leaks' "
             "identity-based selection); the reference set is drawn from the whole pool either way");
    v.integers("member_classes", member_classes, {0, std::int64_t{1} << 31},
               "`class` selection: the labels members are drawn from (needs labelled data)");
  }
  bool operator==(const DataConfig&) const = default;
};

}  // namespace ganleaks
