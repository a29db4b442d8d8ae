#pragma once
// A thin RAII layer over HDF5's C API: files, groups, 1-D/2-D datasets and scalar attributes, enough for
// the results contract (SPEC §5) and readable by h5py. HDF5 headers stay in h5.cpp.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace ganleaks::io {

// Owns one HDF5 identifier (file, group or dataset) and closes it.
class H5Object {
 public:
  H5Object() = default;
  explicit H5Object(std::int64_t id) : id_(id) {}
  ~H5Object();
  H5Object(H5Object&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  H5Object& operator=(H5Object&& other) noexcept;
  H5Object(const H5Object&) = delete;
  H5Object& operator=(const H5Object&) = delete;
  std::int64_t id() const { return id_; }

 private:
  std::int64_t id_ = -1;
};

class H5Group;

// How many values a dataset (or, `attribute`, an attribute) of an open file holds, once its shape is found
// plausible: its values in the file's type fit in what the file can hold (its size, times deflate's largest
// compression ratio). A damaged or hostile shape is an exception naming `where`, never a reader allocating terabytes.
std::size_t checked_value_count(std::int64_t object, bool attribute, const std::string& where);

// A numeric dataset of any rank read as float64, with its shape and whether it was stored as integers.
struct H5Numeric {
  std::vector<std::int64_t> dims;
  std::vector<double> values;  // row-major
  bool integer = false;
};

class H5File {
 public:
  static H5File create(const std::filesystem::path& file);  // truncates
  static H5File open_read(const std::filesystem::path& file);
  H5Group root() const;
  const std::filesystem::path& path() const { return path_; }
  std::int64_t id() const { return handle_.id(); }

 private:
  H5Object handle_;
  std::filesystem::path path_;
};

class H5Group {
 public:
  H5Group(H5Object handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}

  H5Group create_group(const std::string& name) const;  // intermediate groups created too
  H5Group open_group(const std::string& name) const;
  bool has(const std::string& name) const;
  std::vector<std::string> children() const;  // names, sorted

  void write(const std::string& name, std::span<const double> values) const;
  void write(const std::string& name, std::span<const float> values) const;
  void write(const std::string& name, std::span<const std::int64_t> values) const;
  void write(const std::string& name, std::span<const std::uint8_t> values) const;
  // Row-major 2-D dataset.
  void write_matrix(const std::string& name, std::span<const double> values, std::int64_t rows,
                    std::int64_t cols) const;

  // Row-major float32 dataset of any rank (e.g. images (N, C, H, W)).
  void write_array(const std::string& name, std::span<const float> values, std::span<const std::int64_t> dims) const;
  // A float32 dataset and its shape; `rows` > 0 reads only the first rows of the first dimension.
  std::vector<float> read_floats(const std::string& name, std::vector<std::int64_t>& dims, std::int64_t rows = 0) const;

  std::vector<double> read_doubles(const std::string& name) const;
  std::vector<std::int64_t> read_int64s(const std::string& name) const;
  std::vector<std::uint8_t> read_bytes(const std::string& name) const;
  // Any integer or float dataset; std::invalid_argument naming the stored type class otherwise.
  H5Numeric read_numeric(const std::string& name) const;

  void set_attr(const std::string& name, double value) const;
  void set_attr(const std::string& name, std::int64_t value) const;
  void set_attr(const std::string& name, const std::string& value) const;
  void set_attr(const std::string& name, const char* value) const { set_attr(name, std::string(value)); }
  double attr_double(const std::string& name) const;
  std::int64_t attr_int(const std::string& name) const;
  std::string attr_string(const std::string& name) const;
  bool has_attr(const std::string& name) const;

  const std::string& path() const { return path_; }
  std::int64_t id() const { return handle_.id(); }

 private:
  H5Object handle_;
  std::string path_;
};

// Copies a group (with everything below it) from one file into another, e.g. a finished job's file into
// results.h5. dst_path's parent groups are created.
void copy_group(const H5File& src, const std::string& src_path, const H5File& dst, const std::string& dst_path);

}  // namespace ganleaks::io
