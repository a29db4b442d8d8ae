#include "extraction/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "io/h5.h"
#include "io/plots.h"

namespace ganleaks::extraction {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double attr_or_nan(const io::H5Group& g, const std::string& key) { return g.has_attr(key) ? g.attr_double(key) : kNaN; }
std::int64_t attr_or_zero(const io::H5Group& g, const std::string& key) { return g.has_attr(key) ? g.attr_int(key) : 0; }

// Mean (± standard deviation over seeds when there are several) of a metric, "–" where it is not defined.
std::string cell(const std::vector<double>& values, bool latex = false) {
  std::vector<double> v;
  for (const double x : values) {
    if (!std::isnan(x)) v.push_back(x);
  }
  if (v.empty()) return latex ? "--" : "–";
  double mean = 0;
  for (const double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  if (v.size() == 1) return fmt::format("{:.3f}", mean);
  double var = 0;
  for (const double x : v) var += (x - mean) * (x - mean);
  const double sd = std::sqrt(var / static_cast<double>(v.size() - 1));
  return latex ? fmt::format("{:.3f} $\\pm$ {:.3f}", mean, sd) : fmt::format("{:.3f} ± {:.3f}", mean, sd);
}

std::string method_label(const ExtractionRow& r) {
  if (r.method == "fidelity") return fmt::format("fidelity ({} prior)", r.prior);
  if (r.method.starts_with("accuracy-")) return fmt::format("accuracy ({})", r.method.substr(9));
  return r.method;
}

std::string defense_label(const ExtractionRow& r) {
  return r.defense == "none" ? "none" : fmt::format("{} {}", r.defense, r.defense_strength);
}

bool undefended_extraction(const ExtractionRow& r) {
  return r.defense == "none" && (r.method == "fidelity" || r.method.starts_with("accuracy-"));
}

// Rows (target, attack model, method) × columns queries, the chosen metric in each cell.
using Key = std::tuple<std::string, std::string, std::string>;
std::string by_queries(const std::vector<ExtractionRow>& rows, double ExtractionRow::*metric, bool latex) {
  std::set<std::int64_t> budgets;
  std::map<Key, std::map<std::int64_t, std::vector<double>>> cells;
  for (const auto& r : rows) {
    if (!undefended_extraction(r)) continue;
    budgets.insert(r.queries);
    cells[{r.target_model, r.model, method_label(r)}][r.queries].push_back(r.*metric);
  }
  if (cells.empty()) return "";
  std::string out;
  if (latex) {
    out = fmt::format("\\begin{{tabular}}{{lll{}}}\n\\toprule\ntarget & attack model & method", std::string(budgets.size(), 'r'));
    for (auto n : budgets) out += fmt::format(" & $N = {}$", n);
    out += " \\\\\n\\midrule\n";
  } else {
    out = "| target | attack model | method |";
    std::string rule = "|---|---|---|";
    for (auto n : budgets) {
      out += fmt::format(" N = {} |", n);
      rule += "---:|";
    }
    out += "\n" + rule + "\n";
  }
  for (const auto& [key, by_n] : cells) {
    const auto& [target, model, method] = key;
    out += latex ? fmt::format("{} & {} & {}", target, model, method) : fmt::format("| {} | {} | {} |", target, model, method);
    for (auto n : budgets) {
      const auto it = by_n.find(n);
      const auto text = cell(it == by_n.end() ? std::vector<double>{} : it->second, latex);
      out += latex ? " & " + text : " " + text + " |";
    }
    out += latex ? " \\\\\n" : "\n";
  }
  if (latex) out += "\\bottomrule\n\\end{tabular}\n";
  return out;
}

std::string defenses_markdown(const std::vector<ExtractionRow>& rows) {
  // The defended runs and, at the same budget and prior, the undefended fidelity extraction they compare with.
  std::set<std::pair<std::int64_t, std::string>> defended_budgets;
  for (const auto& r : rows) {
    if (r.method == "fidelity" && r.defense != "none") defended_budgets.insert({r.queries, r.prior});
  }
  if (defended_budgets.empty()) return "";
  using DKey = std::tuple<std::string, std::string, std::int64_t, bool, std::string>;  // target, model, N, defended, defense
  std::map<DKey, std::vector<const ExtractionRow*>> groups;
  for (const auto& r : rows) {
    if (r.method != "fidelity" || !defended_budgets.contains({r.queries, r.prior})) continue;
    groups[{r.target_model, r.model, r.queries, r.defense != "none", defense_label(r)}].push_back(&r);
  }
  std::string out =
      "| target | attack model | N | defense | fidelity FID | accuracy FID | JS accuracy (×10⁻³) | utility cost (FID) |\n"
      "|---|---|---:|---|---:|---:|---:|---:|\n";
  for (const auto& [key, group] : groups) {
    const auto& [target, model, n, defended, label] = key;
    std::vector<double> fidelity, accuracy, js, utility;
    for (const auto* r : group) {
      fidelity.push_back(r->fidelity_fid);
      accuracy.push_back(r->accuracy_fid);
      js.push_back(1e3 * r->js_accuracy);
      utility.push_back(defended ? r->utility_fid : 0.0);
    }
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", target, model, n, label, cell(fidelity), cell(accuracy),
                       cell(js), cell(utility));
  }
  return out;
}

std::string refined_markdown(const std::vector<ExtractionRow>& rows) {
  std::string out;
  for (const auto& r : rows) {
    if (!r.method.starts_with("accuracy-")) continue;
    if (out.empty()) {
      out = "| target | attack model | refiner | seed | Q | generator calls | refined samples | training records | accuracy FID | "
            "fidelity FID |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    }
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {:.2f} | {:.2f} |\n", r.target_model, r.model,
                       r.method.substr(9), r.seed, r.queries, r.generator_calls, r.refined, r.training_records,
                       r.accuracy_fid, r.fidelity_fid);
  }
  return out;
}

std::string simple_rows(const std::vector<ExtractionRow>& rows, bool transfer) {
  std::string out;
  for (const auto& r : rows) {
    if (transfer != r.method.starts_with("transfer") || (!transfer && r.method != "target")) continue;
    if (out.empty()) {
      out = transfer ? "| target | run | seed | FID vs the new domain | JS (×10⁻³) |\n|---|---|---:|---:|---:|\n"
                     : "| target | seed | FID(target, real) | JS(target, real) (×10⁻³) |\n|---|---:|---:|---:|\n";
    }
    out += transfer ? fmt::format("| {} | {} | {} | {:.2f} | {:.2f} |\n", r.target_model, r.method, r.seed, r.accuracy_fid,
                                  1e3 * r.js_accuracy)
                    : fmt::format("| {} | {} | {:.2f} | {:.2f} |\n", r.target_model, r.seed, r.accuracy_fid, 1e3 * r.js_accuracy);
  }
  return out;
}

}  // namespace

std::vector<ExtractionRow> read_extraction_rows(const std::filesystem::path& results_h5) {
  const auto file = io::H5File::open_read(results_h5);
  std::vector<ExtractionRow> rows;
  if (!file.root().has("extraction")) return rows;
  const auto all = file.root().open_group("extraction");
  for (const auto& id : all.children()) {
    const auto g = all.open_group(id);
    rows.push_back({.id = id,
                    .run = g.attr_string("run"),
                    .method = g.attr_string("method"),
                    .model = g.attr_string("model"),
                    .target_model = g.attr_string("target_model"),
                    .prior = g.attr_string("prior"),
                    .defense = g.attr_string("defense"),
                    .defense_strength = attr_or_nan(g, "defense_strength"),
                    .queries = g.attr_int("queries"),
                    .seed = g.attr_int("seed"),
                    .fidelity_fid = g.attr_double("fidelity_fid"),
                    .accuracy_fid = g.attr_double("accuracy_fid"),
                    .js_fidelity = g.attr_double("js_fidelity"),
                    .js_accuracy = g.attr_double("js_accuracy"),
                    .utility_fid = attr_or_nan(g, "utility_fid"),
                    .generator_calls = attr_or_zero(g, "generator_calls"),
                    .training_records = attr_or_zero(g, "training_records"),
                    .refined = attr_or_zero(g, "refined"),
                    .fid_label = g.attr_string("fid_label"),
                    .fid_samples = g.attr_int("fid_samples")});
  }
  return rows;
}

std::string extraction_markdown(const std::vector<ExtractionRow>& rows, const std::string& classifier) {
  const auto label = rows.empty() ? std::string("FID") : rows.front().fid_label;
  const auto samples = rows.empty() ? 0 : rows.front().fid_samples;
  std::string out = fmt::format(
      "All FIDs are {} between {} generated samples and the comparison set; lower is better. {}\n\n", label, samples,
      classifier);
  if (const auto t = simple_rows(rows, false); !t.empty()) out += "## The target\n\n" + t + "\n";
  if (const auto t = by_queries(rows, &ExtractionRow::fidelity_fid, false); !t.empty()) {
    out += "## Fidelity: FID(attack, target) against queries N\n\n" + t + "\n";
  }
  if (const auto t = by_queries(rows, &ExtractionRow::accuracy_fid, false); !t.empty()) {
    out += "## Accuracy: FID(attack, real training data) against queries N\n\n" + t +
           "\nAccuracy extraction's N counts every generator call (calibration samples and every MH proposal).\n\n";
  }
  if (const auto t = refined_markdown(rows); !t.empty()) out += "## Accuracy extraction's samples\n\n" + t + "\n";
  if (const auto t = defenses_markdown(rows); !t.empty()) {
    out += "## Defenses\n\nThe thief's fidelity extraction against each defended target, beside the undefended one; the "
           "utility cost is the FID between the defended and the undefended answers to the same queries.\n\n" + t + "\n";
  }
  if (const auto t = simple_rows(rows, true); !t.empty()) out += "## Transfer study\n\n" + t + "\n";
  return out;
}

std::string extraction_latex(const std::vector<ExtractionRow>& rows) {
  return "% fidelity FID(attack, target)\n" + by_queries(rows, &ExtractionRow::fidelity_fid, true) +
         "% accuracy FID(attack, real)\n" + by_queries(rows, &ExtractionRow::accuracy_fid, true);
}

std::string extraction_csv(const std::vector<ExtractionRow>& rows) {
  std::string out = "id,run,method,model,target_model,prior,defense,defense_strength,queries,seed,fidelity_fid,accuracy_fid,"
                    "js_fidelity,js_accuracy,utility_fid,generator_calls,training_records,refined,fid_label,fid_samples\n";
  for (const auto& r : rows) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\",{}\n", r.id, r.run, r.method, r.model,
                       r.target_model, r.prior, r.defense, r.defense_strength, r.queries, r.seed, r.fidelity_fid,
                       r.accuracy_fid, r.js_fidelity, r.js_accuracy, r.utility_fid, r.generator_calls, r.training_records,
                       r.refined, r.fid_label, r.fid_samples);
  }
  return out;
}

std::string write_extraction_plots(const std::vector<ExtractionRow>& rows, const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  // Two panels, fidelity and accuracy; a line per undefended method, a point per defense. First seed only.
  std::map<std::string, std::map<std::int64_t, std::pair<double, double>>> series;  // name -> N -> (fidelity, accuracy)
  for (const auto& r : rows) {
    if (r.method == "target" || r.method.starts_with("transfer")) continue;
    auto name = fmt::format("{} {}", r.model, r.method == "fidelity" ? r.prior : r.method.substr(9));
    if (r.defense != "none") name += " + " + defense_label(r);
    auto& points = series[name];
    if (!points.contains(r.queries)) points[r.queries] = {r.fidelity_fid, r.accuracy_fid};
  }
  if (series.empty()) return "";
  std::string data, fidelity, accuracy;
  int index = 0;
  for (const auto& [name, points] : series) {
    data += fmt::format("# {}\n", name);
    for (const auto& [n, v] : points) data += fmt::format("{} {} {}\n", n, v.first, v.second);
    data += "\n\n";
    const auto style = points.size() > 1 ? "linespoints" : "points pointsize 1.5";
    const auto sep = index ? ", \\\n  " : "";
    fidelity += fmt::format("{}'fid_vs_queries.dat' index {} using 1:2 with {} title '{}'", sep, index, style, name);
    accuracy += fmt::format("{}'fid_vs_queries.dat' index {} using 1:3 with {} notitle", sep, index, style);
    ++index;
  }
  io::write_plot_file(folder / "fid_vs_queries.dat", data);
  io::write_plot_file(folder / "fid_vs_queries.gp",
                  fmt::format("set terminal pngcairo size 1300,620\nset output 'fid_vs_queries.png'\nset logscale x\n"
                              "set grid\nset xlabel 'queries N'\nset multiplot layout 1,2\n"
                              "set key top right font ',9'\nset title 'fidelity: FID(attack, target)'\nset ylabel '{}'\n"
                              "plot {}\nset title 'accuracy: FID(attack, real data)'\nplot {}\nunset multiplot\n",
                              rows.front().fid_label, fidelity, accuracy));
  return io::run_gnuplot(folder, "fid_vs_queries.gp");
}

}  // namespace ganleaks::extraction
