#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "core/errors.h"

namespace ganleaks::io {
namespace {

// Below this many free bytes a failed write is taken for a full disk (or quota).
constexpr std::uintmax_t kNearlyFull = std::uintmax_t{1} << 20;

std::string this_host() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// Whether a failed write ran out of room: the error says so (ENOSPC, EDQUOT, as text from HDF5 or LibTorch), or the
// file system is (nearly) full now.
bool out_of_space(const std::filesystem::path& folder, const std::string& error) {
  for (const int code : {ENOSPC, EDQUOT}) {
    if (error.find(std::strerror(code)) != std::string::npos || error.find(fmt::format("errno = {}", code)) != std::string::npos) {
      return true;
    }
  }
  struct statvfs fs {};
  return ::statvfs(folder.c_str(), &fs) == 0 && static_cast<std::uintmax_t>(fs.f_bavail) * fs.f_frsize < kNearlyFull;
}

void flush_to_disk(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + file.string());
  const int status = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (status != 0) throw std::system_error(error, std::generic_category(), "fsync " + file.string());
}

}  // namespace

std::filesystem::path temporary_name(const std::filesystem::path& target) {
  auto tmp = target;
  tmp += fmt::format(".tmp-{}-{}", this_host(), ::getpid());
  return tmp;
}

void ensure_space(const std::filesystem::path& target, std::uintmax_t bytes) {
  struct statvfs fs {};
  if (::statvfs(target.parent_path().c_str(), &fs) != 0) return;  // cannot tell: let the write find out
  const auto free = static_cast<std::uintmax_t>(fs.f_bavail) * fs.f_frsize;
  if (free < bytes) {
    throw UserError(fmt::format("{}: no space left on the device (it needs about {} MB, {} MB are free); nothing was "
                                "written. Free space and rerun the same command",
                                target.string(), bytes / 1'000'000 + 1, free / 1'000'000));
  }
}

void write_atomically(const std::filesystem::path& target,
                      const std::function<void(const std::filesystem::path& tmp)>& write) {
  const auto tmp = temporary_name(target);
  try {
    write(tmp);
    flush_to_disk(tmp);  // a full disk or an I/O error shows here at the latest, before the rename commits
    std::filesystem::rename(tmp, target);
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    if (out_of_space(target.parent_path(), e.what())) {
      throw UserError(fmt::format("{}: no space left on the device; it was not written (every file written before "
                                  "it is kept). Free space and rerun the same command to go on",
                                  target.string()));
    }
    throw;
  }
}

void write_file(const std::filesystem::path& target, std::string_view bytes) {
  write_atomically(target, [&](const std::filesystem::path& tmp) {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + tmp.string());
    for (std::size_t done = 0; done < bytes.size();) {
      const auto wrote = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote < 0) {
        const int error = errno;
        ::close(fd);
        throw std::system_error(error, std::generic_category(), "write " + tmp.string());
      }
      done += static_cast<std::size_t>(wrote);
    }
    if (::close(fd) != 0) throw std::system_error(errno, std::generic_category(), "close " + tmp.string());
  });
}

}  // namespace ganleaks::io
