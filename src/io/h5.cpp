#include "io/h5.h"

#include <hdf5.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace ganleaks::io {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("HDF5: " + what); }

// Errors become exceptions with our own message; HDF5's default stack dump on stderr is switched off.
// Once per process: HDF5's error stack is not printed (our exceptions say what failed), and its free lists are bounded
// (by default they keep every freed block for reuse, so reading many or damaged files grows the heap without end).
void configure_hdf5() {
  static const bool once = [] {
    constexpr int kListBytes = 4 << 20, kAllListsBytes = 16 << 20;
    H5set_free_list_limits(kAllListsBytes, kListBytes, kAllListsBytes, kListBytes, kAllListsBytes, kListBytes);
    return H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;
  }();
  (void)once;
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

// Link creation property list that creates missing intermediate groups.
H5Object intermediate_groups() {
  H5Object plist(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(plist.id(), 1);
  return plist;
}

template <class T>
void write_nd(const H5Group& group, const std::string& name, hid_t type, const T* data, std::vector<hsize_t> dims) {
  H5Object space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                       "dataspace for " + name));
  const auto lcpl = intermediate_groups();
  H5Object dataset(check(H5Dcreate2(group.id(), name.c_str(), type, space.id(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT),
                         fmt::format("create dataset {}/{}", group.path(), name)));
  std::size_t total = 1;
  for (auto d : dims) total *= d;
  if (total > 0) {
    check_status(H5Dwrite(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                 fmt::format("write dataset {}/{}", group.path(), name));
  }
}

}  // namespace

std::size_t checked_value_count(std::int64_t object, bool attribute, const std::string& where) {
  // deflate cannot compress by more than about 1032:1; the slack covers small datasets of fill values.
  constexpr hsize_t kMaxCompression = 1032, kSlackBytes = hsize_t{1} << 20;
  const H5Object space(attribute ? H5Aget_space(object) : H5Dget_space(object));
  const H5Object type(attribute ? H5Aget_type(object) : H5Dget_type(object));
  if (space.id() < 0 || type.id() < 0) fail("no shape or type: " + where);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) fail("no shape: " + where);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  const auto type_bytes = std::max<hsize_t>(H5Tget_size(type.id()), 1);
  const H5Object file(H5Iget_file_id(object));
  hsize_t file_bytes = 0;
  if (file.id() < 0 || H5Fget_filesize(file.id(), &file_bytes) < 0) fail("no file size: " + where);
  const hsize_t limit = file_bytes > (~hsize_t{0} - kSlackBytes) / kMaxCompression ? ~hsize_t{0}
                                                                                    : file_bytes * kMaxCompression + kSlackBytes;
  hsize_t count = 1;
  for (const auto d : dims) {
    if (d != 0 && count > limit / type_bytes / d) {
      fail(fmt::format("{}: its shape claims more values than a file of {} bytes can hold (damaged?)", where, file_bytes));
    }
    count *= d;
  }
  return static_cast<std::size_t>(count);
}

namespace {

template <class T>
std::vector<T> read_1d(const H5Group& group, const std::string& name, hid_t type) {
  H5Object dataset(check(H5Dopen2(group.id(), name.c_str(), H5P_DEFAULT),
                         fmt::format("open dataset {}/{}", group.path(), name)));
  const auto n = checked_value_count(dataset.id(), false, fmt::format("{}/{}", group.path(), name));
  std::vector<T> values(n);
  if (n > 0) {
    check_status(H5Dread(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                 fmt::format("read dataset {}/{}", group.path(), name));
  }
  return values;
}

template <class T>
void set_scalar_attr(const H5Group& group, const std::string& name, hid_t type, const T& value) {
  if (H5Aexists(group.id(), name.c_str()) > 0) H5Adelete(group.id(), name.c_str());
  H5Object space(H5Screate(H5S_SCALAR));
  H5Object attr(check(H5Acreate2(group.id(), name.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                      fmt::format("create attribute {}@{}", group.path(), name)));
  check_status(H5Awrite(attr.id(), type, &value), fmt::format("write attribute {}@{}", group.path(), name));
}

H5Object open_attr(const H5Group& group, const std::string& name) {
  return H5Object(check(H5Aopen(group.id(), name.c_str(), H5P_DEFAULT),
                        fmt::format("{} has no attribute '{}'", group.path(), name)));
}

}  // namespace

H5Object::~H5Object() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
}

H5Object& H5Object::operator=(H5Object&& other) noexcept {
  if (this != &other) {
    H5Object discard(id_);
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

H5File H5File::create(const std::filesystem::path& file) {
  configure_hdf5();
  H5File f;
  f.handle_ = H5Object(check(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                             "cannot create " + file.string()));
  f.path_ = file;
  return f;
}

H5File H5File::open_read(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw std::runtime_error(file.string() + ": no such file");
  configure_hdf5();
  H5File f;
  f.handle_ = H5Object(check(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                             file.string() + ": not a readable HDF5 file"));
  f.path_ = file;
  return f;
}

H5Group H5File::root() const {
  return H5Group(H5Object(check(H5Gopen2(id(), "/", H5P_DEFAULT), "open /")), "/");
}

namespace {
std::string join(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}
}  // namespace

H5Group H5Group::create_group(const std::string& name) const {
  const auto lcpl = intermediate_groups();
  return H5Group(H5Object(check(H5Gcreate2(id(), name.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT),
                                "create group " + join(path_, name))),
                 join(path_, name));
}

H5Group H5Group::open_group(const std::string& name) const {
  return H5Group(H5Object(check(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), "open group " + join(path_, name))),
                 join(path_, name));
}

bool H5Group::has(const std::string& name) const { return H5Lexists(id(), name.c_str(), H5P_DEFAULT) > 0; }

std::vector<std::string> H5Group::children() const {
  std::vector<std::string> names;
  H5Literate(
      id(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  std::sort(names.begin(), names.end());
  return names;
}

void H5Group::write(const std::string& name, std::span<const double> v) const {
  write_nd(*this, name, H5T_NATIVE_DOUBLE, v.data(), {v.size()});
}
void H5Group::write(const std::string& name, std::span<const float> v) const {
  write_nd(*this, name, H5T_NATIVE_FLOAT, v.data(), {v.size()});
}
void H5Group::write(const std::string& name, std::span<const std::int64_t> v) const {
  write_nd(*this, name, H5T_NATIVE_INT64, v.data(), {v.size()});
}
void H5Group::write(const std::string& name, std::span<const std::uint8_t> v) const {
  write_nd(*this, name, H5T_NATIVE_UINT8, v.data(), {v.size()});
}
void H5Group::write_matrix(const std::string& name, std::span<const double> v, std::int64_t rows,
                           std::int64_t cols) const {
  if (static_cast<std::int64_t>(v.size()) != rows * cols) fail("write_matrix " + name + ": size mismatch");
  write_nd(*this, name, H5T_NATIVE_DOUBLE, v.data(),
           {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)});
}

void H5Group::write_array(const std::string& name, std::span<const float> values,
                          std::span<const std::int64_t> dims) const {
  std::vector<hsize_t> shape;
  std::int64_t total = 1;
  for (const auto d : dims) {
    shape.push_back(static_cast<hsize_t>(d));
    total *= d;
  }
  if (total != static_cast<std::int64_t>(values.size())) fail("write_array " + name + ": size mismatch");
  write_nd(*this, name, H5T_NATIVE_FLOAT, values.data(), shape);
}

std::vector<float> H5Group::read_floats(const std::string& name, std::vector<std::int64_t>& dims,
                                        std::int64_t rows) const {
  H5Object dataset(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), fmt::format("open dataset {}/{}", path(), name)));
  checked_value_count(dataset.id(), false, fmt::format("{}/{}", path(), name));
  H5Object space(H5Dget_space(dataset.id()));
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> shape(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.id(), shape.data(), nullptr);
  if (rows > 0 && !shape.empty() && static_cast<hsize_t>(rows) < shape[0]) {
    std::vector<hsize_t> start(shape.size(), 0);
    shape[0] = static_cast<hsize_t>(rows);
    check_status(H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start.data(), nullptr, shape.data(), nullptr),
                 fmt::format("select the first {} rows of {}/{}", rows, path(), name));
  }
  dims.assign(shape.begin(), shape.end());
  std::size_t total = 1;
  for (auto d : shape) total *= d;
  std::vector<float> values(total);
  if (total > 0) {
    H5Object memory(check(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), "memory dataspace"));
    check_status(H5Dread(dataset.id(), H5T_NATIVE_FLOAT, memory.id(), space.id(), H5P_DEFAULT, values.data()),
                 fmt::format("read dataset {}/{}", path(), name));
  }
  return values;
}

std::vector<double> H5Group::read_doubles(const std::string& name) const {
  return read_1d<double>(*this, name, H5T_NATIVE_DOUBLE);
}
std::vector<std::int64_t> H5Group::read_int64s(const std::string& name) const {
  return read_1d<std::int64_t>(*this, name, H5T_NATIVE_INT64);
}
std::vector<std::uint8_t> H5Group::read_bytes(const std::string& name) const {
  return read_1d<std::uint8_t>(*this, name, H5T_NATIVE_UINT8);
}

H5Numeric H5Group::read_numeric(const std::string& name) const {
  H5Object dataset(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), fmt::format("open dataset {}/{}", path(), name)));
  H5Object type(H5Dget_type(dataset.id()));
  const auto type_class = H5Tget_class(type.id());
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
    const char* what = type_class == H5T_STRING   ? "strings"
                       : type_class == H5T_COMPOUND ? "a compound type"
                                                   : "a non-numeric type";
    throw std::invalid_argument(fmt::format("dataset '{}' holds {}; expected integers or floats", name, what));
  }
  checked_value_count(dataset.id(), false, fmt::format("{}/{}", path(), name));
  H5Object space(H5Dget_space(dataset.id()));
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  H5Numeric out;
  out.integer = type_class == H5T_INTEGER;
  std::size_t total = 1;
  for (auto d : dims) {
    out.dims.push_back(static_cast<std::int64_t>(d));
    total *= d;
  }
  out.values.resize(total);
  if (total > 0) {
    check_status(H5Dread(dataset.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()),
                 fmt::format("read dataset {}/{}", path(), name));
  }
  return out;
}

void H5Group::set_attr(const std::string& name, double value) const {
  set_scalar_attr(*this, name, H5T_NATIVE_DOUBLE, value);
}
void H5Group::set_attr(const std::string& name, std::int64_t value) const {
  set_scalar_attr(*this, name, H5T_NATIVE_INT64, value);
}
void H5Group::set_attr(const std::string& name, const std::string& value) const {
  if (H5Aexists(id(), name.c_str()) > 0) H5Adelete(id(), name.c_str());
  // Variable-length UTF-8 strings: h5py reads them as str.
  H5Object type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.id(), H5T_VARIABLE);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
  H5Object space(H5Screate(H5S_SCALAR));
  H5Object attr(check(H5Acreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                      fmt::format("create attribute {}@{}", path_, name)));
  const char* text = value.c_str();
  check_status(H5Awrite(attr.id(), type.id(), &text), fmt::format("write attribute {}@{}", path_, name));
}

double H5Group::attr_double(const std::string& name) const {
  const auto attr = open_attr(*this, name);
  double value = 0;
  check_status(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &value), fmt::format("read attribute {}@{}", path_, name));
  return value;
}
std::int64_t H5Group::attr_int(const std::string& name) const {
  const auto attr = open_attr(*this, name);
  std::int64_t value = 0;
  check_status(H5Aread(attr.id(), H5T_NATIVE_INT64, &value), fmt::format("read attribute {}@{}", path_, name));
  return value;
}
std::string H5Group::attr_string(const std::string& name) const {
  const auto attr = open_attr(*this, name);
  H5Object type(H5Aget_type(attr.id()));
  if (H5Tis_variable_str(type.id()) > 0) {
    H5Object memtype(H5Tcopy(H5T_C_S1));
    H5Tset_size(memtype.id(), H5T_VARIABLE);
    H5Tset_cset(memtype.id(), H5Tget_cset(type.id()));
    char* text = nullptr;
    check_status(H5Aread(attr.id(), memtype.id(), &text), fmt::format("read attribute {}@{}", path_, name));
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  std::string value(H5Tget_size(type.id()), '\0');
  check_status(H5Aread(attr.id(), type.id(), value.data()), fmt::format("read attribute {}@{}", path_, name));
  return value.substr(0, value.find('\0'));
}
bool H5Group::has_attr(const std::string& name) const { return H5Aexists(id(), name.c_str()) > 0; }

void copy_group(const H5File& src, const std::string& src_path, const H5File& dst, const std::string& dst_path) {
  const auto lcpl = intermediate_groups();
  check_status(H5Ocopy(src.id(), src_path.c_str(), dst.id(), dst_path.c_str(), H5P_DEFAULT, lcpl.id()),
               fmt::format("copy {}:{} to {}:{}", src.path().string(), src_path, dst.path().string(), dst_path));
}

}  // namespace ganleaks::io
