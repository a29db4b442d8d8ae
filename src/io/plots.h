#pragma once
// PNG figures beside report.md, drawn by gnuplot (Debian `gnuplot-nox`) from data files written here:
//   plots/auc_vs_size.png   AUC (with 95 % bootstrap bars) against training-set size, a line per setting
//   plots/roc_n<N>.png      ROC curves on log-log axes (Carlini et al.'s low-FPR view), one file per size
// The .dat and .gp files stay, so a figure can be restyled and redrawn by hand.
#include <filesystem>
#include <string>
#include <vector>

#include "io/report.h"

namespace ganleaks::io {

// Writes the data and scripts and runs gnuplot on them. Returns "" on success, else why the PNGs are
// missing (no gnuplot on PATH, or its error); the data and scripts are written either way.
std::string write_plots(const std::vector<AttackRow>& rows, const std::filesystem::path& folder);

// The pieces every figure uses: a data or script file, and gnuplot run on a script inside `folder` (the scripts
// name their files relative to it); "" on success, else why no PNG was drawn.
void write_plot_file(const std::filesystem::path& file, const std::string& text);
std::string run_gnuplot(const std::filesystem::path& folder, const std::string& script);

}  // namespace ganleaks::io
