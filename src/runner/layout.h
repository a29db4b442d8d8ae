#pragma once
// Where an experiment's files live under results/<experiment>/ (SPEC §5), in one place.
#include <filesystem>
#include <string>

namespace ganleaks::runner {

struct Layout {
  std::filesystem::path root;  // results/<experiment>

  std::filesystem::path config() const { return root / "config.toml"; }
  std::filesystem::path provenance() const { return root / "provenance.toml"; }
  std::filesystem::path logs() const { return root / "logs"; }
  std::filesystem::path rank_log(int rank) const { return logs() / ("rank-" + std::to_string(rank) + ".log"); }
  std::filesystem::path run_dir(const std::string& run) const { return root / "runs" / run; }
  // Written last by a training job: its presence means the run is complete.
  std::filesystem::path run_record(const std::string& run) const { return run_dir(run) / "run.h5"; }
  std::filesystem::path attack_record(const std::string& attack) const {
    return root / "attacks" / (attack + ".h5");
  }
  // Extraction: the target's answers to the thief's queries, accuracy extraction's refined samples (both with
  // /images), and one evaluation record per extraction evaluation.
  std::filesystem::path queries(const std::string& job) const { return root / "queries" / (job + ".h5"); }
  std::filesystem::path refined(const std::string& job) const { return root / "refined" / (job + ".h5"); }
  std::filesystem::path extraction_record(const std::string& job) const { return root / "extraction" / (job + ".h5"); }
  // Shared by every experiment under the same results_dir: the FID/JS classifier is trained once per setting.
  std::filesystem::path cache() const { return root.parent_path() / "cache"; }
  std::filesystem::path classifier_dir(const std::string& key) const { return cache() / ("classifier-" + key); }
  std::filesystem::path results() const { return root / "results.h5"; }
  std::filesystem::path report_md() const { return root / "report.md"; }
  std::filesystem::path report_csv() const { return root / "report.csv"; }
  std::filesystem::path report_tex() const { return root / "report.tex"; }
  std::filesystem::path plots() const { return root / "plots"; }
};

}  // namespace ganleaks::runner
