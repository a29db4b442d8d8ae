#include "membership/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "io/h5.h"
#include "membership/calibration.h"
#include "metrics/roc.h"

namespace ganleaks::membership {
namespace {

constexpr std::array<const char*, 3> kTprKeys{"tpr_at_fpr_0.001", "tpr_at_fpr_0.01", "tpr_at_fpr_0.1"};

Estimate read_estimate(const io::H5Group& g, const std::string& key) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto optional = [&](const std::string& name) { return g.has_attr(name) ? g.attr_double(name) : nan; };
  return {g.attr_double(key), optional(key + "_ci_low"), optional(key + "_ci_high")};
}

// A record's model as the report names it ("dcgan", "dcgan (paper)" for a [[variant]] arm's), and its privacy
// level (records from before DP levels have none).
std::string labelled_model(const io::H5Group& g) {
  return model_label(g.attr_string("model"), g.has_attr("variant") ? g.attr_string("variant") : "");
}
std::string privacy_of(const io::H5Group& g) { return g.has_attr("privacy") ? g.attr_string("privacy") : "non-private"; }

}  // namespace

std::string calibration_label(const std::string& how) {
  if (how == calibration::kNone) return "no";
  if (how == calibration::kReference) return "yes";
  auto label = how;  // "lira-online" -> "LiRA online"
  if (label.starts_with("lira")) label.replace(0, 4, "LiRA");
  if (label.starts_with("rmia")) label.replace(0, 4, "RMIA");
  std::ranges::replace(label, '-', ' ');
  return label;
}

std::string model_label(const std::string& model, const std::string& variant) {
  return variant.empty() ? model : fmt::format("{} ({})", model, variant);
}

std::vector<AttackRow> read_attack_rows(const std::filesystem::path& results_h5) {
  const auto file = io::H5File::open_read(results_h5);
  std::vector<AttackRow> rows;
  if (!file.root().has("attacks")) return rows;
  const auto attacks = file.root().open_group("attacks");
  for (const auto& id : attacks.children()) {
    const auto g = attacks.open_group(id);
    AttackRow row{.id = id,
                  .model = labelled_model(g),
                  .setting = g.attr_string("setting"),
                  .privacy = privacy_of(g),
                  .dp_epsilon = g.attr_double("dp_epsilon"),
                  .dp_target_epsilon = g.has_attr("dp_target_epsilon") ? g.attr_double("dp_target_epsilon") : NAN,
                  .dp_noise_multiplier = g.has_attr("dp_noise_multiplier") ? g.attr_double("dp_noise_multiplier") : NAN,
                  .calibrated = g.attr_int("calibrated") != 0,
                  // Records from before shadow models name no calibration: the reference model's, or none.
                  .calibration = g.has_attr("calibration") ? g.attr_string("calibration")
                                 : std::string(g.attr_int("calibrated") != 0 ? calibration::kReference : calibration::kNone),
                  .train_size = g.attr_int("train_size"),
                  .seed = static_cast<std::uint64_t>(g.attr_int("seed")),
                  .auc = read_estimate(g, "auc")};
    const auto is_member = g.read_bytes("is_member");
    row.non_members = std::count(is_member.begin(), is_member.end(), std::uint8_t{0});
    for (std::size_t i = 0; i < kTprKeys.size(); ++i) {
      row.tpr[i] = read_estimate(g, kTprKeys[i]);
      row.tpr[i].resolved = metrics::fpr_resolved(row.non_members, metrics::kReportedFprs[i]);
    }
    if (g.has("roc_fpr")) {
      row.roc_fpr = g.read_doubles("roc_fpr");
      row.roc_tpr = g.read_doubles("roc_tpr");
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

// Rows sort by model, then privacy level (non-private first, then target ε falling or σ rising: from
// least to most private), then attack, then calibration from none to the shadow-model attacks.
using AttackKey = std::tuple<std::string, double, std::string, std::string, int, std::string>;  // ..., setting, calibration

int calibration_order(const std::string& how) {
  return static_cast<int>(std::ranges::find(calibration::kAll, how) - calibration::kAll.begin());
}

double privacy_order(const AttackRow& r) {
  if (r.privacy == "non-private") return -std::numeric_limits<double>::infinity();
  return std::isnan(r.dp_target_epsilon) ? r.dp_noise_multiplier : -r.dp_target_epsilon;
}

AttackKey key_of(const AttackRow& r) {
  return {r.model, privacy_order(r), r.privacy, r.setting, calibration_order(r.calibration), r.calibration};
}
std::string with_privacy_label(const std::string& model, const std::string& privacy) {
  return privacy == "non-private" ? model : model + ", " + privacy;
}

std::string format_cell(const std::vector<Estimate>& values, TableStyle style) {
  const bool latex = style == TableStyle::kLatex;
  if (values.empty()) return latex ? "--" : "–";
  if (std::ranges::any_of(values, [](const Estimate& e) { return !e.resolved; })) return "not resolved";
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
    cells[key_of(r)][r.train_size].push_back(value(r));
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
    const auto& [model, order, privacy, setting, calibration_rank, calibration] = key;
    const auto label = with_privacy_label(model, privacy);
    out += latex ? fmt::format("{} & {} & {}", label, setting, calibration_label(calibration))
                 : fmt::format("| {} | {} | {} |", label, setting, calibration_label(calibration));
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
    out += fmt::format("TPR at FPR {} (\"not resolved\": fewer than {:g} non-member queries):\n\n", labels[i],
                       1 / metrics::kReportedFprs[i]);
    out += table(rows, [i](const AttackRow& r) { return r.tpr[i]; }, TableStyle::kMarkdown) + "\n";
  }
  return out;
}

std::string victim_table_markdown(const std::filesystem::path& results_h5, const std::vector<AttackRow>& rows) {
  struct Victim {
    std::string model, privacy;
    double epsilon, delta, sigma, q, quality;
    std::int64_t steps, n;
  };
  std::vector<Victim> victims;
  std::string quality_measure = "FID (8×8 px)";
  {
    const auto file = io::H5File::open_read(results_h5);
    if (!file.root().has("runs")) return "";
    const auto runs = file.root().open_group("runs");
    for (const auto& name : runs.children()) {
      const auto g = runs.open_group(name);
      if (g.attr_string("role") != "victim") continue;
      const double nan = std::numeric_limits<double>::quiet_NaN();
      auto optional = [&](const std::string& key) { return g.has_attr(key) ? g.attr_double(key) : nan; };
      // Records: the dimension-wise error (runs since issue #5 store sample_quality); images: FID.
      const bool records = g.has_attr("sample_quality_measure") &&
                           g.attr_string("sample_quality_measure").starts_with("dimension-wise");
      if (records) quality_measure = "dimension-wise error";
      victims.push_back({labelled_model(g), privacy_of(g),
                         g.attr_double("dp_epsilon"), optional("dp_delta"), optional("dp_noise_multiplier"),
                         optional("dp_sample_rate"), records ? optional("sample_quality") : optional("sample_fid"),
                         g.has_attr("dp_steps") ? g.attr_int("dp_steps") : 0, g.attr_int("train_size")});
    }
  }
  const bool dp = std::ranges::any_of(victims, [](const Victim& v) { return !std::isnan(v.epsilon); });
  std::set<std::string> models;
  for (const auto& v : victims) models.insert(v.model);
  const bool several_models = models.size() > 1;
  if (victims.empty()) return "";
  std::set<std::string> settings;
  for (const auto& r : rows) settings.insert(r.setting);
  std::ranges::sort(victims, [](const Victim& a, const Victim& b) {
    const double ea = std::isnan(a.epsilon) ? INFINITY : a.epsilon, eb = std::isnan(b.epsilon) ? INFINITY : b.epsilon;
    return std::tie(a.n, a.model, eb) < std::tie(b.n, b.model, ea);  // by n, model, then ε falling
  });
  std::string out = "| n |", rule = "|---:|";
  if (several_models) out += " model |", rule += "---|";
  if (dp) out += " privacy | ε | δ | σ | q | steps |", rule += "---|---:|---:|---:|---:|---:|";
  out += fmt::format(" {} |", quality_measure), rule += "---:|";
  for (const auto& s : settings) {
    out += fmt::format(" AUC {} |", s);
    rule += "---:|";
  }
  out += "\n" + rule + "\n";
  auto number = [](double v, const char* format) { return std::isnan(v) ? std::string("–") : fmt::format(fmt::runtime(format), v); };
  for (const auto& v : victims) {
    out += fmt::format("| {} |", v.n);
    if (several_models) out += fmt::format(" {} |", v.model);
    if (dp) {
      out += fmt::format(" {} | {} | {} | {} | {} | {} |", v.privacy,
                         std::isnan(v.epsilon) ? "∞" : fmt::format("{:.3g}", v.epsilon), number(v.delta, "{:g}"),
                         number(v.sigma, "{:.3g}"), number(v.q, "{:.3g}"), v.steps > 0 ? std::to_string(v.steps) : "–");
    }
    out += fmt::format(" {} |", number(v.quality, "{:.3f}"));
    for (const auto& s : settings) {
      // The variant calibrated with the reference model where it exists, else the uncalibrated one (the shadow
      // models' scores are in the AUC table); mean over seeds.
      std::vector<double> cal, uncal;
      for (const auto& r : rows) {
        if (r.setting == s && r.train_size == v.n && r.privacy == v.privacy && r.model == v.model) {
          if (r.calibration == calibration::kReference) cal.push_back(r.auc.value);
          if (r.calibration == calibration::kNone) uncal.push_back(r.auc.value);
        }
      }
      const auto& use = cal.empty() ? uncal : cal;
      double mean = 0;
      for (double a : use) mean += a;
      out += use.empty() ? " – |"
                         : fmt::format(" {:.3f}{} |", mean / static_cast<double>(use.size()), cal.empty() ? "" : " (cal)");
    }
    out += "\n";
  }
  return out;
}

std::string attack_rows_csv(const std::vector<AttackRow>& rows) {
  std::string out =
      "attack_id,model,privacy,dp_epsilon,setting,calibrated,calibration,train_size,seed,auc,auc_ci_low,auc_ci_high";
  for (const auto* key : kTprKeys) out += fmt::format(",{0},{0}_ci_low,{0}_ci_high", key);
  out += "\n";
  for (const auto& r : rows) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{:.6f},{:.6f},{:.6f}", r.id, r.model, r.privacy, r.dp_epsilon, r.setting,
                       r.calibrated ? 1 : 0, r.calibration, r.train_size, r.seed, r.auc.value, r.auc.low, r.auc.high);
    for (const auto& t : r.tpr) {
      out += t.resolved ? fmt::format(",{:.6f},{:.6f},{:.6f}", t.value, t.low, t.high) : std::string(",nan,nan,nan");
    }
    out += "\n";
  }
  return out;
}

}  // namespace ganleaks::membership
