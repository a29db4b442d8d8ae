#pragma once
// The extraction tables (Stealing GANs; docs/extraction.md): evaluations read back from results.h5
// (/extraction/<id>, SPEC §5) and rendered as Markdown, CSV and LaTeX, and the figure FID vs queries.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ganleaks::extraction {

struct ExtractionRow {
  std::string id;            // group under /extraction
  std::string run, method;   // the evaluated run; "target", "fidelity", "accuracy-mh", "accuracy-drs", "transfer-..."
  std::string model, target_model, prior, defense;
  double defense_strength = 0;  // NaN without a defense
  std::int64_t queries = 0, seed = 0;
  double fidelity_fid = 0, accuracy_fid = 0;  // FID(attack, target), FID(attack, real); NaN where not defined
  double js_fidelity = 0, js_accuracy = 0;
  double utility_fid = 0;          // the defense's cost: FID(defended answers, undefended answers); NaN otherwise
  std::int64_t generator_calls = 0, training_records = 0, refined = 0;
  std::string fid_label;           // "FID (FMNIST-classifier features)", ...
  std::int64_t fid_samples = 0;
};

std::vector<ExtractionRow> read_extraction_rows(const std::filesystem::path& results_h5);

// report.md's extraction sections: the target, fidelity/accuracy FID against queries per method, the defenses
// at their budget with their utility cost, accuracy extraction's refined samples, and the transfer study.
// `classifier` is a line about the FID/JS classifier (its test accuracy), printed under the tables.
std::string extraction_markdown(const std::vector<ExtractionRow>& rows, const std::string& classifier);
std::string extraction_latex(const std::vector<ExtractionRow>& rows);
std::string extraction_csv(const std::vector<ExtractionRow>& rows);

// plots/fid_vs_queries.png (and its .dat/.gp): fidelity and accuracy FID against queries, a line per method and
// a point per defense. Returns "" on success, else why the PNG is missing.
std::string write_extraction_plots(const std::vector<ExtractionRow>& rows, const std::filesystem::path& folder);

}  // namespace ganleaks::extraction
