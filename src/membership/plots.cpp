#include <fmt/format.h>

#include <map>
#include <set>

#include "io/plots.h"
#include "membership/calibration.h"
#include "membership/report.h"

namespace ganleaks::membership {
namespace {

// The model leads every name (sweeps over models compare them); the privacy level follows when there is DP.
std::string series_name(const AttackRow& r) {
  const auto how = r.calibration == calibration::kNone        ? std::string()
                   : r.calibration == calibration::kReference ? std::string(" (cal)")
                                                              : " (" + calibration_label(r.calibration) + ")";
  return r.model + " " + r.setting + how + (r.privacy == "non-private" ? "" : ", " + r.privacy);
}

}  // namespace

std::string write_plots(const std::vector<AttackRow>& rows, const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  // AUC vs n: one data block per series (first seed only when there are several: the table has the spread).
  std::map<std::string, std::map<std::int64_t, const AttackRow*>> series;
  std::set<std::int64_t> sizes;
  for (const auto& r : rows) {
    auto& slot = series[series_name(r)][r.train_size];
    if (!slot || r.seed < slot->seed) slot = &r;
    sizes.insert(r.train_size);
  }
  std::string data, plot;
  int index = 0;
  for (const auto& [name, by_size] : series) {
    data += fmt::format("# {}\n", name);
    for (const auto& [n, r] : by_size) {
      const double low = std::isnan(r->auc.low) ? r->auc.value : r->auc.low;
      const double high = std::isnan(r->auc.high) ? r->auc.value : r->auc.high;
      data += fmt::format("{} {} {} {}\n", n, r->auc.value, low, high);
    }
    data += "\n\n";
    plot += fmt::format("{}'auc_vs_size.dat' index {} using 1:2:3:4 with yerrorlines title '{}'", index ? ", \\\n  " : "",
                        index, name);
    ++index;
  }
  io::write_plot_file(folder / "auc_vs_size.dat", data);
  io::write_plot_file(folder / "auc_vs_size.gp",
             fmt::format("set terminal pngcairo size 900,600\nset output 'auc_vs_size.png'\nset logscale x 2\n"
                         "set xlabel 'training-set size n'\nset ylabel 'membership-inference AUC'\nset yrange [0.3:1.02]\n"
                         "set key outside right\nset grid\nplot {}\n",
                         plot));

  // ROC per training-set size, log-log: every series; and for a signal with shadow-model scores, one more plot
  // with only its own series (raw, calibrated, LiRA, RMIA), roc_n<N>_<setting>.png.
  std::vector<std::string> scripts{"auc_vs_size.gp"};
  const auto write_roc = [&](std::int64_t n, const std::string& stem, const std::string& title, const std::string& setting) {
    std::string roc_data, roc_plot;
    int block = 0;
    for (const auto& [name, by_size] : series) {
      const auto it = by_size.find(n);
      if (it == by_size.end() || it->second->roc_fpr.empty()) continue;
      if (!setting.empty() && it->second->setting != setting) continue;
      roc_data += fmt::format("# {}\n", name);
      for (std::size_t i = 0; i < it->second->roc_fpr.size(); ++i) {
        roc_data += fmt::format("{} {}\n", it->second->roc_fpr[i], it->second->roc_tpr[i]);
      }
      roc_data += "\n\n";
      roc_plot += fmt::format("{}'{}.dat' index {} using 1:2 with steps title '{}'", block ? ", \\\n  " : "", stem,
                              block, name);
      ++block;
    }
    if (!block) return;
    io::write_plot_file(folder / (stem + ".dat"), roc_data);
    io::write_plot_file(folder / (stem + ".gp"),
               fmt::format("set terminal pngcairo size 800,700\nset output '{}.png'\nset logscale xy\n"
                           "set xrange [1e-3:1]\nset yrange [1e-3:1]\nset xlabel 'false-positive rate'\n"
                           "set ylabel 'true-positive rate'\nset title '{}'\nset key bottom right\nset grid\n"
                           "plot x with lines dashtype 2 lc rgb 'gray' title 'chance', \\\n  {}\n",
                           stem, title, roc_plot));
    scripts.push_back(stem + ".gp");
  };
  std::set<std::string> shadowed;  // settings with LiRA or RMIA scores
  for (const auto& r : rows) {
    if (r.calibration.starts_with("lira") || r.calibration.starts_with("rmia")) shadowed.insert(r.setting);
  }
  for (const auto n : sizes) {
    write_roc(n, fmt::format("roc_n{}", n), fmt::format("ROC, n = {}", n), "");
    for (const auto& setting : shadowed) {
      write_roc(n, fmt::format("roc_n{}_{}", n, setting), fmt::format("ROC of {}, n = {}", setting, n), setting);
    }
  }
  for (const auto& s : scripts) {
    if (auto problem = io::run_gnuplot(folder, s); !problem.empty()) return problem;
  }
  return "";
}

}  // namespace ganleaks::membership
