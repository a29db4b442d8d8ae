#pragma once
// Where an experiment's files live under results/<experiment>/ (SPEC §5): what every task has. A task's own
// folders are named by the task (Task::folders and its record paths).
#include <filesystem>
#include <string>

namespace ganleaks::runner {

struct Layout {
  std::filesystem::path root;  // results/<experiment>

  std::filesystem::path config() const { return root / "config.toml"; }
  std::filesystem::path provenance() const { return root / "provenance.toml"; }
  std::filesystem::path logs() const { return root / "logs"; }
  std::filesystem::path rank_log(int rank) const { return logs() / ("rank-" + std::to_string(rank) + ".log"); }
  // A trained model's folder (checkpoints, the release), and the record written last when it is complete.
  std::filesystem::path run_dir(const std::string& run) const { return root / "runs" / run; }
  std::filesystem::path run_record(const std::string& run) const { return run_dir(run) / "run.h5"; }
  // A job's record in one of the task's folders: root / folder / (job + ".h5").
  std::filesystem::path record(const std::string& folder, const std::string& job) const {
    return root / folder / (job + ".h5");
  }
  // Shared by every experiment under the same results_dir (what is worth training once per setting).
  std::filesystem::path cache() const { return root.parent_path() / "cache"; }
  std::filesystem::path results() const { return root / "results.h5"; }
  std::filesystem::path report_md() const { return root / "report.md"; }
  std::filesystem::path report_csv() const { return root / "report.csv"; }
  std::filesystem::path report_tex() const { return root / "report.tex"; }
  std::filesystem::path plots() const { return root / "plots"; }
};

}  // namespace ganleaks::runner
