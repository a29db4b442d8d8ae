#pragma once
// The leak table: attack results read back from results.h5 and rendered for people (Markdown, LaTeX) and
// programs (CSV), as report.md, report.csv, report.tex and plots/ (membership::Task::report). `ganleaks report`
// and the end of `ganleaks run` both go through here.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ganleaks::membership {

struct Estimate {
  double value = 0;
  double low = 0, high = 0;  // 95 % bootstrap interval; NaN when not computed
  bool resolved = true;      // false: a TPR at an FPR the queries cannot resolve (metrics::fpr_resolved)
};

struct AttackRow {
  std::string id;  // group name under /attacks
  std::string model;    // and, for a [[variant]] arm, its label: "dcgan (paper-nn)" (model_label below)
  std::string setting;
  std::string privacy = "non-private";  // "DP ε=3", ...
  double dp_epsilon = 0;                // NaN without DP
  double dp_target_epsilon = 0;         // NaN unless the level was given as a target ε
  double dp_noise_multiplier = 0;       // NaN without DP
  bool calibrated = false;       // any calibration
  std::string calibration = "none";  // "none", "reference" (GAN-Leaks), "lira-online", "lira-offline", "rmia-…"
  std::int64_t train_size = 0;
  std::uint64_t seed = 0;
  Estimate auc;
  std::array<Estimate, 3> tpr{};  // at FPR 0.1 %, 1 %, 10 % (metrics::kReportedFprs)
  std::int64_t non_members = 0;   // queries that were not members
  std::vector<double> roc_fpr, roc_tpr;
};

// How the tables' "calibrated" column names a calibration: "no", "yes" (the reference model), "LiRA online", ...
std::string calibration_label(const std::string& how);

// How a model is named in the tables: "dcgan", or "dcgan (paper-nn)" for an arm of a config's [[variant]] tables.
std::string model_label(const std::string& model, const std::string& variant);

std::vector<AttackRow> read_attack_rows(const std::filesystem::path& results_h5);

enum class TableStyle { kMarkdown, kLatex };

// AUC per (model, setting, calibrated) x training-set size. One seed: the value and its 95 % bootstrap
// interval; several seeds: mean ± standard deviation over seeds.
std::string auc_table(const std::vector<AttackRow>& rows, TableStyle style);
// TPR at the reported FPRs, same layout, one table per FPR (Markdown); "not resolved" where the queries had
// fewer than 1/FPR non-members.
std::string tpr_tables_markdown(const std::vector<AttackRow>& rows);
// One row per victim (training-set size, model when several, privacy level) with, for DP, the accountant's
// ε, δ, σ, q, steps; the victim's sample quality (FID on pooled pixels for images, the dimension-wise error
// for records; lower is better) and the AUC of every attack beside it (calibrated where run).
std::string victim_table_markdown(const std::filesystem::path& results_h5, const std::vector<AttackRow>& rows);

// One line per attack group, intervals included; a TPR the queries do not resolve is written as nan.
std::string attack_rows_csv(const std::vector<AttackRow>& rows);

// plots/ (membership/plots.cpp), drawn by gnuplot from data files written beside them:
//   auc_vs_size.png   AUC (with 95 % bootstrap bars) against training-set size, a line per setting
//   roc_n<N>.png      ROC curves on log-log axes (Carlini et al.'s low-FPR view), one file per size
//   roc_n<N>_<setting>.png   the same for one signal with shadow-model scores: raw, calibrated, LiRA, RMIA
// Returns "" on success, else why the PNGs are missing; the data and scripts are written either way.
std::string write_plots(const std::vector<AttackRow>& rows, const std::filesystem::path& folder);

}  // namespace ganleaks::membership
