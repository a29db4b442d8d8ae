#include "io/record.h"

#include <hdf5.h>

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "io/atomic_file.h"
#include "io/h5.h"

namespace ganleaks::io {
namespace {

// 64-bit FNV-1a: a corruption check (not a defence against someone forging records).
class Digest {
 public:
  void add(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) state_ = (state_ ^ bytes[i]) * 0x100000001b3ULL;
  }
  void add(std::string_view text) {
    const auto size = static_cast<std::uint64_t>(text.size());
    add(&size, sizeof size);  // length first: "ab"+"c" differs from "a"+"bc"
    add(text.data(), text.size());
  }
  std::string hex() const { return fmt::format("{:016x}", state_); }

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

[[noreturn]] void unreadable(const std::string& what) { throw std::runtime_error(what); }

// The values of a dataset or an attribute (`is_attribute`), as the native type holds them.
void add_values(Digest& digest, hid_t object, bool is_attribute, const std::string& where) {
  const H5Object type(is_attribute ? H5Aget_type(object) : H5Dget_type(object));
  const H5Object space(is_attribute ? H5Aget_space(object) : H5Dget_space(object));
  if (type.id() < 0 || space.id() < 0) unreadable("no type or shape: " + where);
  const auto points = checked_value_count(object, is_attribute, where);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  digest.add(dims.data(), dims.size() * sizeof(hsize_t));
  const auto read = [&](hid_t memory_type, void* buffer) {
    const herr_t status = is_attribute ? H5Aread(object, memory_type, buffer)
                                       : H5Dread(object, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    if (status < 0) unreadable("cannot read " + where);
  };
  if (H5Tget_class(type.id()) == H5T_STRING && H5Tis_variable_str(type.id()) > 0) {
    const H5Object memory(H5Tcopy(H5T_C_S1));
    H5Tset_size(memory.id(), H5T_VARIABLE);
    H5Tset_cset(memory.id(), H5Tget_cset(type.id()));  // HDF5 does not convert between ASCII and UTF-8
    std::vector<char*> texts(static_cast<std::size_t>(points), nullptr);
    if (points > 0) read(memory.id(), texts.data());
    for (const char* text : texts) digest.add(text ? std::string_view(text) : std::string_view());
    if (points > 0) H5Dvlen_reclaim(memory.id(), space.id(), H5P_DEFAULT, texts.data());
    return;
  }
  const H5Object memory(H5Tget_class(type.id()) == H5T_STRING ? H5Tcopy(type.id())
                                                             : H5Tget_native_type(type.id(), H5T_DIR_ASCEND));
  if (memory.id() < 0) unreadable("unknown type: " + where);
  std::vector<unsigned char> buffer(static_cast<std::size_t>(points) * H5Tget_size(memory.id()));
  if (!buffer.empty()) read(memory.id(), buffer.data());
  digest.add(buffer.data(), buffer.size());
}

struct Visit {
  Digest* digest;
  std::string object;  // the object whose attributes are visited
  std::string problem;  // why an attribute could not be read
};

herr_t add_attribute(hid_t location, const char* name, const H5A_info_t*, void* data) {
  auto& visit = *static_cast<Visit*>(data);
  if (visit.object == "/" && std::string_view(name) == kContentDigest) return 0;  // the seal itself
  visit.digest->add(name);
  const H5Object attribute(H5Aopen(location, name, H5P_DEFAULT));
  try {
    if (attribute.id() < 0) unreadable("cannot open " + visit.object + "@" + name);
    add_values(*visit.digest, attribute.id(), true, visit.object + "@" + name);
  } catch (const std::exception& e) {
    visit.problem = e.what();
    return -1;
  }
  return 0;
}

// An object's path, its attributes in name order and, for a dataset, its values.
void add_object(Digest& digest, hid_t file, const std::string& path) {
  digest.add(path);
  H5O_info_t info;
  if (H5Oget_info_by_name(file, path.c_str(), &info, H5P_DEFAULT) < 0) unreadable("cannot open " + path);
  const H5Object object(H5Oopen(file, path.c_str(), H5P_DEFAULT));
  if (object.id() < 0) unreadable("cannot open " + path);
  Visit visit{&digest, path};
  hsize_t position = 0;
  if (H5Aiterate2(object.id(), H5_INDEX_NAME, H5_ITER_INC, &position, add_attribute, &visit) < 0) {
    unreadable(visit.problem.empty() ? "cannot read the attributes of " + path : visit.problem);
  }
  if (info.type == H5O_TYPE_DATASET) add_values(digest, object.id(), false, path);
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(std::string("/") + name);
  return 0;
}

std::string content_digest(hid_t file) {
  std::vector<std::string> paths{"/"};
  if (H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, collect_name, &paths) < 0) unreadable("cannot list its objects");
  Digest digest;
  for (const auto& path : paths) add_object(digest, file, path);
  return digest.hex();
}

}  // namespace

void commit_record(const std::filesystem::path& target, const std::function<void(const std::filesystem::path&)>& fill) {
  write_atomically(target, [&](const std::filesystem::path& tmp) {
    fill(tmp);
    seal_record(tmp);
  });
}

void seal_record(const std::filesystem::path& file) {
  H5File::open_read(file);  // HDF5's errors silenced, as everywhere in io
  const H5Object f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  if (f.id() < 0) throw std::runtime_error("HDF5: cannot reopen " + file.string() + " to seal it");
  const auto digest = content_digest(f.id());
  const auto root = H5Gopen2(f.id(), "/", H5P_DEFAULT);
  H5Group(H5Object(root), "/").set_attr(kContentDigest, digest);
}

RecordCheck check_record(const std::filesystem::path& file) {
  using Verdict = RecordCheck::Verdict;
  try {
    const auto record = H5File::open_read(file);
    const auto root = record.root();
    const auto sealed = root.has_attr(kContentDigest) ? root.attr_string(kContentDigest) : "";
    if (!sealed.empty() && content_digest(record.id()) != sealed) {
      return {Verdict::kBroken, "its content differs from what was committed (checksum mismatch)"};
    }
    if (root.has_attr(kFileDigests)) {
      std::istringstream entries(root.attr_string(kFileDigests));
      for (std::string entry; std::getline(entries, entry, ';');) {
        const auto colon = entry.find(':');
        if (colon == std::string::npos) continue;
        const auto name = entry.substr(0, colon);
        if (file_digest(file.parent_path() / name) != entry.substr(colon + 1)) {
          return {Verdict::kBroken, fmt::format("{} beside it is missing or differs from what was committed", name)};
        }
      }
    }
    return {sealed.empty() ? Verdict::kUnsealed : Verdict::kIntact, ""};
  } catch (const std::exception& e) {
    return {Verdict::kBroken, fmt::format("it cannot be read ({})", e.what())};
  }
}

std::string file_digest(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  Digest digest;
  std::vector<char> buffer(1 << 20);
  std::uint64_t size = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    digest.add(buffer.data(), got);
    size += got;
  }
  return fmt::format("{}:{}", size, digest.hex());
}

std::string file_digests(const std::filesystem::path& folder, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += fmt::format("{}{}:{}", out.empty() ? "" : ";", name, file_digest(folder / name));
  return out;
}

}  // namespace ganleaks::io
