// The program's tasks (app/tasks.h): the task a config asks for, the errors that name the valid tasks or the task a
// section belongs to, and the key tables of every task.
#include "app/tasks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"

namespace ganleaks::app {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& text) {
  try {
    parse_task(text, "x.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Tasks, ChosenByExperimentTaskMembershipByDefault) {
  EXPECT_EQ(parse_task("", "x.toml")->experiment().task, "membership");
  EXPECT_EQ(parse_task("[experiment]\ntask = \"extraction\"\n", "x.toml")->experiment().task, "extraction");
  EXPECT_EQ(parse_task("[experiment]\ntask = \"audit\"\n", "x.toml")->headline(), "Privacy audit: ε lower bounds");
  EXPECT_EQ(parse_task("", "x.toml")->headline(), "Membership-inference AUC");
  EXPECT_EQ(parse_task("", "x.toml")->source(), "x.toml");
}

TEST(Tasks, AnUnknownTaskListsTheValidOnes) {
  EXPECT_EQ(error_of("[experiment]\ntask = \"stealing\"\n"),
            "x.toml: experiment.task = \"stealing\" is not allowed; expected one of: membership, extraction, audit");
  EXPECT_THAT(error_of("[experiment]\ntask = 3\n"), HasSubstr("experiment.task = 3 has wrong type (integer)"));
}

TEST(Tasks, SectionsOfAnotherTaskAreNamedAsItsSections) {
  EXPECT_THAT(error_of("[extraction]\nfid_samples = 100\n"),
              HasSubstr("section [extraction] does not apply to experiment.task = \"membership\"; it belongs to "
                        "experiment.task = \"extraction\""));
  EXPECT_THAT(error_of("[experiment]\ntask = \"extraction\"\n[attack]\nsettings = [\"fbb\"]\n"),
              HasSubstr("section [attack] does not apply to experiment.task = \"extraction\""));
  EXPECT_THAT(error_of("[trian]\n"), HasSubstr("unknown section [trian]; valid sections: experiment, data, sweep"));
}

// Every section of every task once, each with its table; shared sections ([train], ...) once.
TEST(Tasks, KeyTablesHaveEverySectionOnce) {
  const auto tables = key_tables_markdown();
  for (const char* section : {"experiment", "data", "sweep", "model", "train", "attack", "privacy", "extraction",
                              "defenses", "features"}) {
    const auto heading = std::string("## `[") + section + "]`\n";
    const auto at = tables.find(heading);
    ASSERT_NE(at, std::string::npos) << section;
    EXPECT_EQ(tables.find(heading, at + 1), std::string::npos) << section << " twice";
  }
  EXPECT_THAT(tables, HasSubstr("| `batch_size` | integer | `64` | [1, 65536] | records per training batch |"));
}

}  // namespace
}  // namespace ganleaks::app
