#pragma once
// Logging for every rank: one file per rank (results/<experiment>/logs/rank-N.log), and rank 0's lines
// also on stderr. A facade over spdlog so that LibTorch translation units, which carry their own fmt,
// never include spdlog.
#include <filesystem>
#include <string>

namespace ganleaks::log {

void start(const std::filesystem::path& file, int rank, bool to_console);

void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);
void critical(const std::string& message);

}  // namespace ganleaks::log
