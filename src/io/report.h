#pragma once
// The leak table: attack results read back from results.h5 and rendered for people (Markdown) and
// programs (CSV). `ganleaks report` and the end of `ganleaks run` both go through here.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ganleaks::io {

struct AttackRow {
  std::string id;  // group name under /attacks
  std::string model, setting;
  bool calibrated = false;
  std::int64_t train_size = 0;
  std::uint64_t seed = 0;
  double auc = 0;
  std::array<double, 3> tpr{};  // at FPR 0.1 %, 1 %, 10 %
};

std::vector<AttackRow> read_attack_rows(const std::filesystem::path& results_h5);

// AUC per (setting, calibrated) x training-set size; the mean over seeds, with the standard deviation
// when there are several.
std::string auc_table_markdown(const std::vector<AttackRow>& rows);
// TPR at the reported FPRs, same layout, one table per FPR.
std::string tpr_tables_markdown(const std::vector<AttackRow>& rows);
// One line per attack group.
std::string attack_rows_csv(const std::vector<AttackRow>& rows);

}  // namespace ganleaks::io
