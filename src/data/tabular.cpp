#include "data/tabular.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/errors.h"
#include "io/h5.h"

namespace ganleaks::data {
namespace {

// Records are float32 tensors: a value it cannot hold (NaN, ±inf, or beyond ±3.4e38, which would become inf) is
// refused where it is read, with the file and the place named.
bool fits_float32(double v) { return std::isfinite(v) && std::abs(v) <= std::numeric_limits<float>::max(); }
// Labels are int64 class indices, read through float64: integers up to 2^53 in magnitude are exact there (and
// anything beyond would not convert to int64 at all).
constexpr double kMaxLabel = 9007199254740992.0;  // 2^53
bool is_label(double v) { return std::isfinite(v) && v == std::floor(v) && std::abs(v) <= kMaxLabel; }

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw DataError(fmt::format("{}: {}", file.string(), what));
}

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return "";
  return std::string(s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1));
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    fields.push_back(trim(std::string_view(line).substr(start, comma == std::string::npos ? comma : comma - start)));
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

// The whole field as a finite number, or nothing.
bool parse_number(const std::string& field, double& value) {
  if (field.empty()) return false;
  const auto* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data() + (field[0] == '+' ? 1 : 0), end, value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

TabularSet load_tabular_h5(const std::filesystem::path& file, const std::string& features_key,
                           const std::string& labels_key) {
  if (!std::filesystem::is_regular_file(file)) fail(file, "no such file; expected an HDF5 file of tabular records");
  io::H5Numeric features, labels;
  bool has_labels = false;
  try {
    const auto h5 = io::H5File::open_read(file);
    const auto root = h5.root();
    if (!root.has(features_key)) {
      std::string found;
      for (const auto& name : root.children()) found += (found.empty() ? "" : ", ") + name;
      fail(file, fmt::format("no dataset '{}'; found: {}", features_key, found.empty() ? "nothing" : found));
    }
    features = root.read_numeric(features_key);
    has_labels = !labels_key.empty() && root.has(labels_key);
    if (has_labels) labels = root.read_numeric(labels_key);
  } catch (const DataError&) {
    throw;
  } catch (const std::exception& e) {
    fail(file, fmt::format("cannot read as HDF5 tabular data: {}", e.what()));
  }
  if (features.dims.size() != 2) {
    fail(file, fmt::format("dataset '{}' has {} dimension(s); expected 2 (records × features)", features_key,
                           features.dims.size()));
  }
  TabularSet set{.records = features.dims[0], .features = features.dims[1]};
  if (set.records == 0 || set.features == 0) {
    fail(file, fmt::format("dataset '{}' is {} × {}; expected at least one record and one feature", features_key,
                           set.records, set.features));
  }
  set.values.reserve(features.values.size());
  for (std::size_t i = 0; i < features.values.size(); ++i) {
    const double v = features.values[i];
    if (!fits_float32(v)) {
      fail(file, fmt::format("{}[{}, {}] = {}; expected finite numbers within float32's range (|x| <= {:g})", features_key,
                             static_cast<std::int64_t>(i) / set.features, static_cast<std::int64_t>(i) % set.features, v,
                             std::numeric_limits<float>::max()));
    }
    set.values.push_back(static_cast<float>(v));
  }
  if (has_labels) {
    if (labels.dims.size() != 1 || labels.dims[0] != set.records) {
      fail(file, fmt::format("dataset '{}' has shape ({}); expected ({}), one label per record", labels_key,
                             fmt::join(labels.dims, ", "), set.records));
    }
    if (!labels.integer) fail(file, fmt::format("dataset '{}' holds floats; expected integer labels", labels_key));
    for (std::size_t i = 0; i < labels.values.size(); ++i) {
      const double v = labels.values[i];
      if (!is_label(v)) {
        fail(file, fmt::format("dataset '{}': label [{}] = {} is beyond 2^53 in magnitude; expected a class index", labels_key, i, v));
      }
      set.labels.push_back(static_cast<std::int64_t>(v));
    }
  }
  return set;
}

TabularSet load_tabular_csv(const std::filesystem::path& file, const std::string& label_column, bool label_required) {
  std::ifstream in(file);
  if (!in) fail(file, "cannot open; expected a CSV file of tabular records");
  TabularSet set;
  std::vector<std::string> header;  // every column's name, the label's included
  std::string line;
  std::int64_t line_number = 0, width = -1, label_index = -1, first_blank = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (trim(line).empty()) {
      if (first_blank == 0) first_blank = line_number;
      continue;
    }
    if (first_blank != 0) fail(file, fmt::format("line {}: empty line inside the data", first_blank));
    const auto fields = split_fields(line);
    double value = 0;
    if (width < 0) {
      width = static_cast<std::int64_t>(fields.size());
      if (!parse_number(fields[0], value)) {  // a header
        header = fields;
        for (std::size_t c = 0; c < header.size(); ++c) {
          if (!label_column.empty() && header[c] == label_column) label_index = static_cast<std::int64_t>(c);
        }
        if (!label_column.empty() && label_index < 0 && label_required) {
          fail(file, fmt::format("line {}: no column '{}' in the header", line_number, label_column));
        }
        continue;
      }
      if (!label_column.empty() && label_required) {
        fail(file, fmt::format("label column '{}' given but the file has no header", label_column));
      }
    }
    if (static_cast<std::int64_t>(fields.size()) != width) {
      fail(file, fmt::format("line {}: {} fields; expected {} (as the first line)", line_number, fields.size(), width));
    }
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (!parse_number(fields[c], value) || !fits_float32(value)) {
        const auto name = header.empty() ? fmt::format("field {}", c + 1) : fmt::format("field {} ('{}')", c + 1, header[c]);
        fail(file, fmt::format("line {}: {} = '{}' is not a finite number within float32's range (|x| <= {:g})",
                               line_number, name, fields[c], std::numeric_limits<float>::max()));
      }
      if (static_cast<std::int64_t>(c) == label_index) {
        if (!is_label(value)) {
          fail(file, fmt::format("line {}: label '{}' is not an integer of at most 2^53 in magnitude", line_number, fields[c]));
        }
        set.labels.push_back(static_cast<std::int64_t>(value));
      } else {
        set.values.push_back(static_cast<float>(value));
      }
    }
    ++set.records;
  }
  if (set.records == 0) fail(file, "no records; expected at least one line of numbers");
  set.features = width - (label_index >= 0 ? 1 : 0);
  if (set.features == 0) fail(file, "no feature columns besides the label");
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (static_cast<std::int64_t>(c) != label_index) set.columns.push_back(header[c]);
  }
  return set;
}

bool is_binary(const TabularSet& set) {
  for (float v : set.values) {
    if (v != 0.0f && v != 1.0f) return false;
  }
  return true;
}

TabularSet binarised_images(const ImageSet& images, std::uint8_t threshold) {
  TabularSet set{.records = images.count, .features = images.rows * images.cols};
  set.values.reserve(images.pixels.size());
  for (auto p : images.pixels) set.values.push_back(p >= threshold ? 1.0f : 0.0f);
  set.labels.assign(images.labels.begin(), images.labels.end());
  return set;
}

}  // namespace ganleaks::data
