#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace ganleaks::io {

void write_atomically(const std::filesystem::path& target,
                      const std::function<void(const std::filesystem::path& tmp)>& write) {
  auto tmp = target;
  tmp += ".tmp-" + std::to_string(::getpid());
  try {
    write(tmp);
    if (int fd = ::open(tmp.c_str(), O_RDONLY); fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    std::filesystem::rename(tmp, target);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace ganleaks::io
