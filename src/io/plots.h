#pragma once
// PNG figures beside report.md, drawn by gnuplot (Debian `gnuplot-nox`) from data and script files that stay
// beside them, so that a figure can be restyled and redrawn by hand. What each task draws is the task's
// (membership/report.h, extraction/report.h).
#include <filesystem>
#include <string>

namespace ganleaks::io {

// A data or script file, and gnuplot run on a script inside `folder` (the scripts name their files relative to
// it); "" on success, else why no PNG was drawn (no gnuplot on PATH, or its error).
void write_plot_file(const std::filesystem::path& file, const std::string& text);
std::string run_gnuplot(const std::filesystem::path& folder, const std::string& script);

}  // namespace ganleaks::io
