#include "io/report.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "io/h5.h"

namespace ganleaks::io {
namespace {

constexpr std::array<const char*, 3> kTprKeys{"tpr_at_fpr_0.001", "tpr_at_fpr_0.01", "tpr_at_fpr_0.1"};

Estimate read_estimate(const H5Group& g, const std::string& key) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto optional = [&](const std::string& name) { return g.has_attr(name) ? g.attr_double(name) : nan; };
  return {g.attr_double(key), optional(key + "_ci_low"), optional(key + "_ci_high")};
}

}  // namespace

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
                  .auc = read_estimate(g, "auc")};
    for (std::size_t i = 0; i < kTprKeys.size(); ++i) row.tpr[i] = read_estimate(g, kTprKeys[i]);
    if (g.has("roc_fpr")) {
      row.roc_fpr = g.read_doubles("roc_fpr");
      row.roc_tpr = g.read_doubles("roc_tpr");
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

using AttackKey = std::tuple<std::string, std::string, bool>;  // model, setting, calibrated

std::string format_cell(const std::vector<Estimate>& values, TableStyle style) {
  const bool latex = style == TableStyle::kLatex;
  if (values.empty()) return latex ? "--" : "–";
  if (values.size() == 1) {
    const auto& e = values.front();
    if (std::isnan(e.low)) return fmt::format("{:.3f}", e.value);
    return latex ? fmt::format("{:.3f} {{\\scriptsize [{:.2f}, {:.2f}]}}", e.value, e.low, e.high)
                 : fmt::format("{:.3f} [{:.2f}, {:.2f}]", e.value, e.low, e.high);
  }
  double mean = 0;
  for (const auto& e : values) mean += e.value;
  mean /= static_cast<double>(values.size());
  double var = 0;
  for (const auto& e : values) var += (e.value - mean) * (e.value - mean);
  const double sd = std::sqrt(var / static_cast<double>(values.size() - 1));
  return latex ? fmt::format("{:.3f} $\\pm$ {:.3f}", mean, sd) : fmt::format("{:.3f} ± {:.3f}", mean, sd);
}

// A row per (model, setting, calibrated), a column per training-set size.
template <class Value>
std::string table(const std::vector<AttackRow>& rows, Value value, TableStyle style) {
  std::set<std::int64_t> sizes;
  std::map<AttackKey, std::map<std::int64_t, std::vector<Estimate>>> cells;
  for (const auto& r : rows) {
    sizes.insert(r.train_size);
    cells[{r.model, r.setting, r.calibrated}][r.train_size].push_back(value(r));
  }
  const bool latex = style == TableStyle::kLatex;
  std::string out;
  if (latex) {
    out = fmt::format("\\begin{{tabular}}{{lll{}}}\n\\toprule\nmodel & attack & calibrated", std::string(sizes.size(), 'r'));
    for (auto n : sizes) out += fmt::format(" & $n = {}$", n);
    out += " \\\\\n\\midrule\n";
  } else {
    std::string rule = "|---|---|---|";
    out = "| model | attack | calibrated |";
    for (auto n : sizes) {
      out += fmt::format(" n = {} |", n);
      rule += "---:|";
    }
    out.append("\n").append(rule).append("\n");
  }
  for (const auto& [key, by_size] : cells) {
    const auto& [model, setting, calibrated] = key;
    out += latex ? fmt::format("{} & {} & {}", model, setting, calibrated ? "yes" : "no")
                 : fmt::format("| {} | {} | {} |", model, setting, calibrated ? "yes" : "no");
    for (auto n : sizes) {
      const auto it = by_size.find(n);
      const auto cell = format_cell(it == by_size.end() ? std::vector<Estimate>{} : it->second, style);
      out += latex ? " & " + cell : " " + cell + " |";
    }
    out += latex ? " \\\\\n" : "\n";
  }
  if (latex) out += "\\bottomrule\n\\end{tabular}\n";
  return out;
}

}  // namespace

std::string auc_table(const std::vector<AttackRow>& rows, TableStyle style) {
  return table(rows, [](const AttackRow& r) { return r.auc; }, style);
}

std::string tpr_tables_markdown(const std::vector<AttackRow>& rows) {
  std::string out;
  const std::array<const char*, 3> labels{"0.1 %", "1 %", "10 %"};
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out += fmt::format("TPR at FPR {}:\n\n", labels[i]);
    out += table(rows, [i](const AttackRow& r) { return r.tpr[i]; }, TableStyle::kMarkdown) + "\n";
  }
  return out;
}

std::string attack_rows_csv(const std::vector<AttackRow>& rows) {
  std::string out = "attack_id,model,setting,calibrated,train_size,seed,auc,auc_ci_low,auc_ci_high";
  for (const auto* key : kTprKeys) out += fmt::format(",{0},{0}_ci_low,{0}_ci_high", key);
  out += "\n";
  for (const auto& r : rows) {
    out += fmt::format("{},{},{},{},{},{},{:.6f},{:.6f},{:.6f}", r.id, r.model, r.setting, r.calibrated ? 1 : 0,
                       r.train_size, r.seed, r.auc.value, r.auc.low, r.auc.high);
    for (const auto& t : r.tpr) out += fmt::format(",{:.6f},{:.6f},{:.6f}", t.value, t.low, t.high);
    out += "\n";
  }
  return out;
}

}  // namespace ganleaks::io
