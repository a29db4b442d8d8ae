#pragma once
// Tabular records for the non-image modalities of GAN-Leaks (SPEC §1): binary medical records (MEDGAN on
// MIMIC-III-style data) and continuous location-style features. What a user with such data brings: an HDF5
// file with a 2-D (records × features) dataset and optional integer labels, or a CSV file. Every defect
// throws DataError whose message starts with the file's path and names the dataset, line or column.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/idx.h"

namespace ganleaks::data {

struct TabularSet {
  std::int64_t records = 0, features = 0;
  std::vector<float> values;         // records × features, row-major
  std::vector<std::int64_t> labels;  // one per record, or empty
  std::vector<std::string> columns;  // feature names (CSV header), or empty
};

// HDF5: `features_key` must be a 2-D integer or float dataset without NaN or infinity, at least one record
// and one feature; `labels_key`, if present (and not ""), a 1-D integer dataset with one entry per record.
TabularSet load_tabular_h5(const std::filesystem::path& file, const std::string& features_key = "features",
                           const std::string& labels_key = "labels");

// CSV: comma-separated numbers, one record per line, the same number of fields on every line; a first line
// that is not all numbers is the header. `label_column` (a header name; needs a header) is taken out of
// the features as the integer label. Empty lines at the end are ignored; NaN, infinity and empty fields
// are errors.
// With label_required false, a file without that column (or without a header) simply has no labels.
TabularSet load_tabular_csv(const std::filesystem::path& file, const std::string& label_column = "",
                            bool label_required = true);

// Whether every value is 0 or 1 (MEDGAN's binary records).
bool is_binary(const TabularSet& set);

// Binary records derived from images for tests and the demo, documented as such: pixel >= threshold -> 1,
// else 0 (28 × 28 = 784 features per Fashion-MNIST image; labels kept). Not medical data: the honest
// stand-in that exercises the binary path with real, structured records.
TabularSet binarised_images(const ImageSet& images, std::uint8_t threshold = 128);

}  // namespace ganleaks::data
