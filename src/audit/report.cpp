#include "audit/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "io/h5.h"

namespace ganleaks::audit {
namespace {

std::string epsilon_text(double epsilon) { return std::isinf(epsilon) ? "∞" : fmt::format("{:.3g}", epsilon); }

std::string outcome(const AuditRow& r) {
  if (r.mode == "multi-run") {
    return fmt::format("{} FP, {} FN of {} + {} runs", r.false_positives, r.false_negatives, r.trials, r.trials);
  }
  return fmt::format("{} of {} guesses right, m = {}", r.correct, r.guesses, r.canaries);
}

}  // namespace

std::vector<AuditRow> read_audit_rows(const std::filesystem::path& results) {
  const auto file = io::H5File::open_read(results);
  const auto audits = file.root().open_group("audits");
  std::vector<AuditRow> rows;
  for (const auto& name : audits.children()) {
    const auto g = audits.open_group(name);
    AuditRow r{.job = name, .mode = g.attr_string("mode"), .setting = g.attr_string("setting"),
               .privacy = g.attr_string("privacy"), .canary = g.attr_string("canary"), .seed = g.attr_int("seed"),
               .train_size = g.attr_int("train_size"), .epsilon = g.attr_double("epsilon"),
               .delta = g.attr_double("delta"), .confidence = g.attr_double("confidence"),
               .epsilon_lb = g.attr_double("epsilon_lb"), .gdp_epsilon_lb = std::numeric_limits<double>::quiet_NaN(),
               .ceiling = g.attr_double("ceiling")};
    if (r.mode == "multi-run") {
      r.gdp_epsilon_lb = g.attr_double("gdp_epsilon_lb");
      r.trials = g.attr_int("trials");
      r.false_positives = g.attr_int("false_positives");
      r.false_negatives = g.attr_int("false_negatives");
    } else {
      r.canaries = g.attr_int("canaries");
      r.guesses = g.attr_int("guesses");
      r.correct = g.attr_int("correct");
    }
    rows.push_back(std::move(r));
  }
  // A level's audits share its target but not always its accountant's ε (the one-run model trains on more
  // records): levels are ordered by their largest ε, their audits together.
  std::map<std::string, double> level_epsilon;
  for (const auto& r : rows) level_epsilon[r.privacy] = std::max(level_epsilon[r.privacy], r.epsilon);
  const auto key = [&](const AuditRow& r) { return std::tuple(-level_epsilon[r.privacy], r.privacy, r.mode, r.setting, r.seed); };
  std::ranges::sort(rows, [&](const AuditRow& a, const AuditRow& b) { return key(a) < key(b); });
  return rows;
}

std::string audit_table_markdown(const std::vector<AuditRow>& rows) {
  if (rows.empty()) return "";
  const auto c = rows.front().confidence;
  std::string out = fmt::format(
      "| victim | accountant ε | δ | audit | signal | canary | seed | outcome | ε_LB ({:g} %) | ε_LB, Gaussian DP | ceiling |\n"
      "|---|---:|---:|---|---|---|---:|---|---:|---:|---:|\n", 100 * c);
  for (const auto& r : rows) {
    out += fmt::format("| {} | {} | {:g} | {} | {} | {} | {} | {} | {:.3f} | {} | {:.3f} |\n", r.privacy,
                       epsilon_text(r.epsilon), r.delta, r.mode, r.setting, r.canary, r.seed, outcome(r), r.epsilon_lb,
                       std::isnan(r.gdp_epsilon_lb) ? "–" : fmt::format("{:.3f}", r.gdp_epsilon_lb), r.ceiling);
  }
  return out;
}

std::string audit_rows_csv(const std::vector<AuditRow>& rows) {
  std::string out = "job,privacy,epsilon,delta,mode,setting,canary,seed,train_size,confidence,trials,false_positives,"
                    "false_negatives,canaries,guesses,correct,epsilon_lb,gdp_epsilon_lb,ceiling\n";
  for (const auto& r : rows) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.job, r.privacy, r.epsilon, r.delta,
                       r.mode, r.setting, r.canary, r.seed, r.train_size, r.confidence, r.trials, r.false_positives,
                       r.false_negatives, r.canaries, r.guesses, r.correct, r.epsilon_lb, r.gdp_epsilon_lb, r.ceiling);
  }
  return out;
}

}  // namespace ganleaks::audit
