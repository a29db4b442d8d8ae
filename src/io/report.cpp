#include "io/report.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "io/h5.h"

namespace ganleaks::io {

std::vector<AttackRow> read_attack_rows(const std::filesystem::path& results_h5) {
  const auto file = H5File::open_read(results_h5);
  std::vector<AttackRow> rows;
  if (!file.root().has("attacks")) return rows;
  const auto attacks = file.root().open_group("attacks");
  for (const auto& id : attacks.children()) {
    const auto g = attacks.open_group(id);
    AttackRow row{.id = id,
                  .model = g.attr_string("model"),
                  .setting = g.attr_string("setting"),
                  .calibrated = g.attr_int("calibrated") != 0,
                  .train_size = g.attr_int("train_size"),
                  .seed = static_cast<std::uint64_t>(g.attr_int("seed")),
                  .auc = g.attr_double("auc")};
    row.tpr = {g.attr_double("tpr_at_fpr_0.001"), g.attr_double("tpr_at_fpr_0.01"), g.attr_double("tpr_at_fpr_0.1")};
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

using AttackKey = std::tuple<std::string, std::string, bool>;  // model, setting, calibrated

std::string format_cell(const std::vector<double>& values) {
  if (values.empty()) return "–";
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  if (values.size() == 1) return fmt::format("{:.3f}", mean);
  double var = 0;
  for (double v : values) var += (v - mean) * (v - mean);
  return fmt::format("{:.3f} ± {:.3f}", mean, std::sqrt(var / static_cast<double>(values.size() - 1)));
}

// One Markdown table: a row per (model, setting, calibrated), a column per training-set size.
template <class Value>
std::string table(const std::vector<AttackRow>& rows, Value value) {
  std::set<std::int64_t> sizes;
  std::map<AttackKey, std::map<std::int64_t, std::vector<double>>> cells;
  for (const auto& r : rows) {
    sizes.insert(r.train_size);
    cells[{r.model, r.setting, r.calibrated}][r.train_size].push_back(value(r));
  }
  std::string out = "| model | attack | calibrated |";
  std::string rule = "|---|---|---|";
  for (auto n : sizes) {
    out += fmt::format(" n = {} |", n);
    rule += "---:|";
  }
  out.append("\n").append(rule).append("\n");  // not "\n" + rule: GCC 12 -Wrestrict false positive
  for (const auto& [key, by_size] : cells) {
    out += fmt::format("| {} | {} | {} |", std::get<0>(key), std::get<1>(key), std::get<2>(key) ? "yes" : "no");
    for (auto n : sizes) {
      const auto it = by_size.find(n);
      out += " " + format_cell(it == by_size.end() ? std::vector<double>{} : it->second) + " |";
    }
    out += "\n";
  }
  return out;
}

}  // namespace

std::string auc_table_markdown(const std::vector<AttackRow>& rows) {
  return table(rows, [](const AttackRow& r) { return r.auc; });
}

std::string tpr_tables_markdown(const std::vector<AttackRow>& rows) {
  std::string out;
  const std::array<const char*, 3> labels{"0.1 %", "1 %", "10 %"};
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out += fmt::format("TPR at FPR {}:\n\n", labels[i]);
    out += table(rows, [i](const AttackRow& r) { return r.tpr[i]; }) + "\n";
  }
  return out;
}

std::string attack_rows_csv(const std::vector<AttackRow>& rows) {
  std::string out = "attack_id,model,setting,calibrated,train_size,seed,auc,tpr_at_fpr_0.001,tpr_at_fpr_0.01,tpr_at_fpr_0.1\n";
  for (const auto& r : rows) {
    out += fmt::format("{},{},{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f}\n", r.id, r.model, r.setting, r.calibrated ? 1 : 0,
                       r.train_size, r.seed, r.auc, r.tpr[0], r.tpr[1], r.tpr[2]);
  }
  return out;
}

}  // namespace ganleaks::io
