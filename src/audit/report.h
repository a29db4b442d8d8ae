#pragma once
// The audit's table (report.md, report.csv and what `ganleaks run` prints), from results.h5's audits/ groups.
// No LibTorch.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ganleaks::audit {

struct AuditRow {
  std::string job, mode, setting, privacy, canary;
  std::int64_t seed = 0, train_size = 0;
  double epsilon = 0, delta = 0, confidence = 0;  // epsilon: the accountant's (+∞ without DP)
  double epsilon_lb = 0, gdp_epsilon_lb = 0, ceiling = 0;  // gdp_epsilon_lb: NaN for one-run audits
  std::int64_t trials = 0, false_positives = 0, false_negatives = 0;  // multi-run
  std::int64_t canaries = 0, guesses = 0, correct = 0;                // one-run
};
// Ordered by privacy level (non-private first, then ε descending), mode, setting, seed.
std::vector<AuditRow> read_audit_rows(const std::filesystem::path& results);
std::string audit_table_markdown(const std::vector<AuditRow>& rows);
std::string audit_rows_csv(const std::vector<AuditRow>& rows);

}  // namespace ganleaks::audit
