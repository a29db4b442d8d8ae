#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/errors.h"
#include "extraction/config.h"

namespace ganleaks::extraction {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The message of the ConfigError that parsing `text` throws ("" if it does not throw).
std::string error_of(const std::string& text) {
  try {
    parse_config(text, "extraction.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return "";
}

constexpr const char* kExtraction = R"(
[experiment]
task = "extraction"
[model]
name = "sngan"
[extraction]
target_train_size = 2048
attack_models = ["dcgan", "sngan"]
priors = ["normal", "uniform"]
fidelity_queries = [1000, 4000]
accuracy_queries = [4000]
refiners = ["mh", "drs"]
mh_chain_length = 20
partial_real = 256
defenses = ["jpeg", "gaussian-noise"]
defense_queries = 2000
fid_samples = 1000
[defenses]
jpeg_quality = [10, 50]
[features]
classifier_iterations = 200
)";

// An extraction config reads its own sections, round-trips, and writes only its task's sections.
TEST(ExtractionConfig, ExtractionTaskReadsItsSectionsAndRoundTrips) {
  const Config c = parse_config(kExtraction, "extraction.toml");
  EXPECT_EQ(c.experiment.task, "extraction");
  EXPECT_EQ(c.extraction.attack_models, (std::vector<std::string>{"dcgan", "sngan"}));
  EXPECT_EQ(c.extraction.accuracy_queries, std::vector<std::int64_t>{4000});
  EXPECT_EQ(c.defenses.jpeg_quality, (std::vector<std::int64_t>{10, 50}));
  EXPECT_EQ(c.features.classifier_iterations, 200);
  const auto text = to_toml(c);
  EXPECT_EQ(parse_config(text, c.source), c) << text;
  EXPECT_THAT(text, HasSubstr("[extraction]\n"));
  EXPECT_THAT(text, Not(HasSubstr("[attack]\n")));
}

TEST(ExtractionConfig, ExtractionSizesAndModelsAreChecked) {
  const std::string head = "[experiment]\ntask = \"extraction\"\n";
  EXPECT_THAT(error_of(head + "[extraction]\nfid_samples = 64\n"),
              HasSubstr("extraction.fid_samples = 64 must exceed features.classifier_feature_dim = 64"));
  EXPECT_THAT(error_of(head + "[extraction]\npartial_real = 5000\n"),
              HasSubstr("extraction.partial_real = 5000 exceeds extraction.target_train_size = 4096"));
  EXPECT_THAT(error_of(head + "[extraction]\naccuracy_queries = [1500]\npartial_real = 1000\n"),
              HasSubstr("extraction.accuracy_queries has 1500, fewer than the 1640"));
  EXPECT_THAT(error_of(head + "[model]\nname = \"vae\"\n[extraction]\naccuracy_queries = [5000]\n"),
              HasSubstr("model.name = \"vae\" has no discriminator"));
  EXPECT_THAT(error_of(head + "[model]\nname = \"medgan\"\n"), HasSubstr("is a model of records"));
  EXPECT_THAT(error_of(head + "[extraction]\ntransfer = true\n"), HasSubstr("needs extraction.target_classes"));
  EXPECT_THAT(error_of(head + "[extraction]\ntransfer = true\ntarget_classes = [0, 5]\n"),
              HasSubstr("class 5 is in both"));
  EXPECT_THAT(error_of(head + "[extraction]\ndefenses = [\"blur\"]\n"),
              HasSubstr("extraction.defenses[0] = \"blur\" is not allowed"));
  EXPECT_THAT(error_of(head + "[features]\nextractor = \"torchscript\"\n"), HasSubstr("needs features.torchscript_model"));
  EXPECT_THAT(error_of(head + "[data]\ndataset = \"fashion-mnist-binary\"\n"), HasSubstr("needs images"));
  EXPECT_THAT(error_of(head + "[defenses]\njpeg_quality = [0]\n"), HasSubstr("defenses.jpeg_quality[0] = 0 is out of range"));
}

}  // namespace
}  // namespace ganleaks::extraction
