// The report's TPR tables say "not resolved" where the queries cannot resolve the FPR (issue #19), read back from a
// results.h5 written here.
#include "membership/report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/h5.h"
#include "metrics/roc.h"

namespace ganleaks::membership {
namespace {

// One attack group with `members` and `non_members` queries, as write_attack_record names its attributes.
std::filesystem::path results_with_queries(std::int64_t members, std::int64_t non_members) {
  const auto dir = std::filesystem::temp_directory_path() / ("ganleaks-test-report-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / ("results-" + std::to_string(non_members) + ".h5");
  const auto file = io::H5File::create(path);
  const auto g = file.root().create_group("attacks/fbb-n64-s0-uncal");
  for (const auto& [key, value] : {std::pair{"model", "dcgan"}, {"setting", "fbb"}, {"privacy", "non-private"}}) {
    g.set_attr(key, value);
  }
  g.set_attr("dp_epsilon", std::nan(""));
  g.set_attr("calibrated", std::int64_t{0});
  g.set_attr("train_size", std::int64_t{64});
  g.set_attr("seed", std::int64_t{0});
  g.set_attr("auc", 0.6);
  for (const double fpr : metrics::kReportedFprs) g.set_attr("tpr_at_fpr_" + fmt::format("{}", fpr), 0.125);
  std::vector<std::uint8_t> is_member(static_cast<std::size_t>(members), 1);
  is_member.resize(static_cast<std::size_t>(members + non_members), 0);
  g.write("is_member", std::span<const std::uint8_t>(is_member));
  return path;
}

TEST(Report, TprAtAnFprTheQueriesCannotResolveIsNotPrinted) {
  EXPECT_FALSE(metrics::fpr_resolved(99, 0.01));
  EXPECT_TRUE(metrics::fpr_resolved(100, 0.01));
  EXPECT_TRUE(metrics::fpr_resolved(1000, 0.001));
  // 64 non-members: 10 % is resolved (6.4 false positives), 1 % and 0.1 % are not.
  const auto rows = read_attack_rows(results_with_queries(64, 64));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].non_members, 64);
  const auto tables = tpr_tables_markdown(rows);
  const auto table_at = [&](const std::string& label) {
    const auto start = tables.find("TPR at FPR " + label);
    return tables.substr(start, tables.find("TPR at FPR", start + 1) - start);
  };
  EXPECT_NE(table_at("0.1 %").find("| not resolved |"), std::string::npos) << tables;
  EXPECT_NE(table_at("1 %").find("| not resolved |"), std::string::npos) << tables;
  EXPECT_NE(table_at("10 %").find("| 0.125 |"), std::string::npos) << tables;
  EXPECT_NE(attack_rows_csv(rows).find(",nan,nan,nan,nan,nan,nan,0.125000,"), std::string::npos);
  // 1000 non-members resolve all three.
  const auto resolved = tpr_tables_markdown(read_attack_rows(results_with_queries(10, 1000)));
  EXPECT_EQ(resolved.find("| not resolved |"), std::string::npos) << resolved;
}

}  // namespace
}  // namespace ganleaks::membership
