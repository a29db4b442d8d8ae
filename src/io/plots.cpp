#include "io/plots.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>

namespace ganleaks::io {
void write_plot_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
  if (!out) throw std::runtime_error(file.string() + ": cannot write");
}

std::string run_gnuplot(const std::filesystem::path& folder, const std::string& script) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) return "gnuplot not found (Debian package gnuplot-nox)";
  const auto command = fmt::format("cd '{}' && gnuplot '{}' > '{}.log' 2>&1", folder.string(), script, script);
  if (std::system(command.c_str()) != 0) return fmt::format("gnuplot failed on {} (see {}.log)", (folder / script).string(), script);
  return "";
}

}  // namespace ganleaks::io
