// The audit's config rules and job graph (audit/config.h, audit/plan.h), without LibTorch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <string>

#include "../core/key_usage.h"
#include "audit/config.h"
#include "audit/plan.h"
#include "core/errors.h"
#include "runner/plan.h"

namespace ganleaks::audit {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAudit = R"(
[experiment]
task = "audit"
seeds = [0]
[attack]
settings = ["dis", "fbb"]
[privacy]
non_private = true
noise_multipliers = [1.0]
[audit]
train_size = 32
runs = 5
threshold_runs = 2
canaries = 10
guesses_in = 3
guesses_out = 3
)";

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "audit.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return "";
}

std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(AuditConfig, ReadsItsSectionsAndRoundTrips) {
  const auto c = parse_config(kAudit, "audit.toml");
  EXPECT_EQ(c.audit.runs, 5);
  EXPECT_EQ(c.attack.calibrated, std::vector<bool>{false});  // the audit's own default
  EXPECT_EQ(parse_config(to_toml(c), "again"), [&] { auto d = c; d.source = "again"; return d; }());
  const auto view = membership_view(c);
  EXPECT_EQ(view.sweep.train_sizes, std::vector<std::int64_t>{32});
  EXPECT_EQ(view.experiment.task, "membership");
}

TEST(AuditConfig, BadInputNamesTheKey) {
  EXPECT_THAT(error_of(with(kAudit, "threshold_runs = 2", "threshold_runs = 5")),
              HasSubstr("audit.threshold_runs = 5 must be below audit.runs = 5"));
  EXPECT_THAT(error_of(with(with(kAudit, "runs = 5", "runs = 0"), "canaries = 10", "canaries = 0")),
              HasSubstr("leave nothing to audit"));
  EXPECT_THAT(error_of(with(kAudit, "guesses_out = 3", "guesses_out = 8")),
              HasSubstr("audit.guesses_in + audit.guesses_out = 11 must be between 1 and audit.canaries = 10"));
  EXPECT_THAT(error_of(with(kAudit, "[attack]", "[attack]\ncalibrated = [false, true]")),
              HasSubstr("attack.calibrated must be [false]"));
  EXPECT_THAT(error_of(with(kAudit, "settings = [\"dis\", \"fbb\"]", "settings = [\"mc\"]")),
              HasSubstr("\"mc\" is not available in the audit"));
  EXPECT_THAT(error_of(with(kAudit, "[audit]", "[audit]\ncanary = \"stripes\"")), HasSubstr("audit.canary"));
  // Membership inference's own rules apply: DP-SGD is for the DCGAN only.
  EXPECT_THAT(error_of(with(kAudit, "[attack]", "[model]\nname = \"vae\"\n[attack]")), HasSubstr("DP-SGD"));
}

TEST(AuditPlan, TrainsBothSidesAndTheOneRunModelPerLevelAndScoresEachPerSetting) {
  const auto c = parse_config(kAudit, "audit.toml");
  const auto plan = make_plan(c);
  std::map<JobKind, int> kinds;
  for (const auto& spec : plan.specs) ++kinds[spec.kind];
  // Per level (2): 2 × 5 multi-run models + 1 one-run model; a signal job per model and setting (2); an audit per
  // mode and setting.
  EXPECT_EQ(kinds[JobKind::kTrain], 2 * 11);
  EXPECT_EQ(kinds[JobKind::kSignals], 2 * 11 * 2);
  EXPECT_EQ(kinds[JobKind::kAudit], 2 * 2 * 2);
  std::set<std::uint64_t> seeds;
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) {
    const auto& spec = plan.specs[i];
    if (spec.kind == JobKind::kTrain) seeds.insert(spec.training_seed);
    if (spec.kind == JobKind::kAudit && spec.mode == Mode::kMultiRun) {
      ASSERT_EQ(spec.signals.size(), 10u);  // IN runs, then OUT runs
      EXPECT_TRUE(plan.specs[plan.specs[spec.signals[0]].model].with_canary);
      EXPECT_FALSE(plan.specs[plan.specs[spec.signals[5]].model].with_canary);
      EXPECT_EQ(plan.jobs[i].depends_on, spec.signals);
    }
    if (spec.kind == JobKind::kTrain && spec.mode == Mode::kMultiRun) {
      EXPECT_EQ(spec.trained_records, 32 + (spec.with_canary ? 1 : 0));
      EXPECT_EQ(spec.dp.has_value(), spec.level.dp());
    }
  }
  EXPECT_EQ(seeds.size(), static_cast<std::size_t>(kinds[JobKind::kTrain]));  // every model its own training seed
}

TEST(AuditPlan, MoreRunsKeepTheTrainingsAndSignalsDone) {
  const auto hashes = [](const std::string& text) {
    auto plan = make_plan(parse_config(text, "audit.toml"));
    runner::hash_jobs(plan.jobs);
    std::map<std::string, std::string> out;
    for (const auto& job : plan.jobs) out[job.name] = job.hash;
    return out;
  };
  const auto before = hashes(kAudit), after = hashes(with(kAudit, "runs = 5", "runs = 9"));
  int kept = 0;
  for (const auto& [name, hash] : before) {
    ASSERT_TRUE(after.contains(name)) << name;
    const bool audit = name.starts_with("audit-");
    EXPECT_EQ(after.at(name) == hash, !audit || name.starts_with("audit-one-run")) << name;
    kept += after.at(name) == hash ? 1 : 0;
  }
  EXPECT_EQ(kept, static_cast<int>(before.size()) - 4);  // the multi-run audits (2 levels × 2 settings) redone
  // A null audit trains other models.
  const auto null = hashes(with(kAudit, "[audit]", "[audit]\ntrain_on_canaries = false"));
  EXPECT_NE(null.at("with-canary-r0-n32-s0"), before.at("with-canary-r0-n32-s0"));
}

TEST(AuditPlan, RowsAndCoinFlipsAreSeededAndTheTrainingSetIgnoresTheCanaryCount) {
  const auto a = audit_rows(1000, 64, 1, 7), b = audit_rows(1000, 64, 40, 7), other = audit_rows(1000, 64, 1, 8);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.sources.front(), b.sources.front());
  EXPECT_NE(a.train, other.train);
  std::set<std::int64_t> all(b.train.begin(), b.train.end());
  all.insert(b.sources.begin(), b.sources.end());
  EXPECT_EQ(all.size(), 104u);  // disjoint
  EXPECT_THROW(audit_rows(100, 64, 40, 7), ConfigError);
  const auto flips = one_run_inclusion(1000, 3);
  EXPECT_EQ(flips, one_run_inclusion(1000, 3));
  const auto heads = std::accumulate(flips.begin(), flips.end(), 0);
  EXPECT_GT(heads, 430);
  EXPECT_LT(heads, 570);
}

// Every key reaches the plan (tests/core/key_usage.h): keys the audit does not read (data.reference_size, the
// shadow-model keys) reach it too, through their sections' text, which only redoes work.
TEST(AuditPlan, EveryKeyReachesTheJobHashes) {
  auto base = parse_config(kAudit, "audit.toml");
  base.experiment.deterministic = false;  // so that experiment.tf32 = true is a valid change
  const auto usage = test_support::key_usage<Config>(
      base, [](const std::string& text) { return parse_config(text, "key-usage.toml"); },
      [](const Config& c) { return test_support::job_hashes(make_plan(c).jobs); });
  // ddpm's keys reach ddpm's jobs alone (tests/membership/test_plan.cpp); the audited DCGAN does not read them.
  EXPECT_EQ(usage.unused, test_support::kDiffusionKeys) << "keys that change no job's hash";
  EXPECT_THAT(usage.misdeclared, ::testing::IsEmpty()) << "keys declared not to affect results that do";
  // Refused by the audit's rules (member_selection, calibrated, shadow_models), or not alone: the base config's
  // DP-SGD level needs the DCGAN on images, its noise_multipliers exclude target_epsilons, and lambda_lpips needs
  // a model file.
  EXPECT_EQ(usage.immovable, (std::vector<std::string>{"data.dataset", "data.member_selection", "model.name",
                                                       "attack.calibrated", "attack.lambda_lpips",
                                                       "attack.shadow_models", "privacy.target_epsilons"}));
}

}  // namespace
}  // namespace ganleaks::audit
