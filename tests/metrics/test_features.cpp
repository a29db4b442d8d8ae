#include "metrics/features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdlib>

#include "core/errors.h"

namespace ganleaks::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ClassifierFeatures, NameLabelDimAndBatchedFeatures) {
  torch::manual_seed(0);
  models::Classifier classifier(models::ClassifierOptions{.width = 4, .feature_dim = 16});
  ClassifierExtractor extractor(classifier, {.batch_size = 3});
  EXPECT_EQ(extractor.name(), "fmnist-classifier-16d");
  EXPECT_EQ(extractor.label(), "FID (FMNIST-classifier features)");
  EXPECT_THAT(extractor.label(), Not(HasSubstr("Inception")));
  EXPECT_EQ(extractor.resize(), "none");
  EXPECT_EQ(extractor.dim(), 16);
  const auto x = torch::rand({7, 1, 32, 32}) * 2 - 1;
  const auto f = extractor.features(x);  // in batches of 3, 3, 1
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{7, 16}));
  EXPECT_EQ(f.scalar_type(), torch::kFloat32);
  EXPECT_FALSE(f.requires_grad());
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(f, classifier->features(x), 1e-5, 1e-6));
  const auto classes = extractor.predict_classes(x);
  const auto expected = classifier->forward(x).argmax(1);
  ASSERT_EQ(classes.size(), 7u);
  for (std::size_t i = 0; i < classes.size(); ++i) EXPECT_EQ(classes[i], expected[i].item<std::int64_t>());
  ClassifierExtractor mnist(classifier, {.dataset = "MNIST"});
  EXPECT_EQ(mnist.name(), "mnist-classifier-16d");
  EXPECT_EQ(mnist.label(), "FID (MNIST-classifier features)");
}

TEST(ClassifierFeatures, FeatureFidRecordsWhatWasMeasured) {
  torch::manual_seed(1);
  models::Classifier classifier(models::ClassifierOptions{.width = 4, .feature_dim = 8});
  ClassifierExtractor extractor(classifier);
  const auto a = torch::rand({60, 1, 32, 32}) * 2 - 1;
  const auto b = torch::rand({50, 1, 32, 32}) - 1;  // darker images
  const auto same = feature_fid(extractor, a, a);
  EXPECT_NEAR(same.fid, 0.0, 1e-9);
  EXPECT_EQ(same.count_a, 60);
  EXPECT_EQ(same.dim, 8);
  EXPECT_EQ(same.extractor, "fmnist-classifier-8d");
  EXPECT_EQ(same.label, "FID (FMNIST-classifier features)");
  EXPECT_EQ(same.resize, "none");
  const auto other = feature_fid(extractor, a, b);
  EXPECT_EQ(other.count_b, 50);
  const auto fa = extractor.features(a), fb = extractor.features(b);
  EXPECT_NEAR(other.fid, frechet_distance(gaussian_stats(fa), gaussian_stats(fb)), 1e-12);
  EXPECT_GT(other.fid, 0.0);
  EXPECT_THROW(feature_fid(extractor, a.slice(0, 0, 8), a), std::invalid_argument);  // N = d
}

// ---- TorchScript networks written by tests/metrics/make_feature_models.py (ctest `features_torchscript`) ----

std::filesystem::path model_dir() {
  const char* dir = std::getenv("GANLEAKS_FEATURE_TEST_MODELS");
  return dir ? dir : "";
}

std::string error_of(const std::string& file, TorchScriptOptions options = {}) {
  try {
    TorchScriptExtractor extractor(model_dir() / file, options);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

// Inception-v3 (torchvision's architecture, random weights, fc = Identity) through the 299x299 / RGB / [0, 1]
// path reproduces the features Python computed with pytorch-fid's preprocessing.
TEST(TorchScriptFeatures, ReproducesPythonInceptionPool3) {
  if (model_dir().empty()) GTEST_SKIP() << "run through ctest (features_torchscript)";
  const auto reference = torch::jit::load((model_dir() / "inception_reference.pt").string());
  const auto inputs = reference.attr("inputs").toTensor(), expected = reference.attr("outputs").toTensor();
  TorchScriptExtractor extractor(model_dir() / "inception_pool3.pt",
                                 {.input_size = 299, .channels = 3, .expected_dim = 2048, .batch_size = 2});
  EXPECT_EQ(extractor.dim(), 2048);
  EXPECT_EQ(extractor.name(), "torchscript:inception_pool3.pt");
  EXPECT_EQ(extractor.file(), model_dir() / "inception_pool3.pt");
  EXPECT_EQ(extractor.label(), "FID (TorchScript features: inception_pool3.pt)");
  EXPECT_EQ(extractor.resize(), "bilinear 299x299 (align_corners=false), gray->RGB, [-1,1]->[0,1]");
  const auto features = extractor.features(inputs);  // batches of 2 and 1
  ASSERT_EQ(features.sizes(), expected.sizes());
  const double scale = expected.abs().max().item<double>();
  const double max_diff = (features - expected).abs().max().item<double>();
  std::printf("Inception pool3: max |C++ - Python| = %.3g (largest feature %.4g, relative %.2e)\n", max_diff, scale,
              max_diff / scale);
  EXPECT_LE(max_diff, 1e-4 * scale);
  // The check can fail: the two noise images' features differ by far more than the tolerance.
  EXPECT_GT((expected[0] - expected[1]).abs().max().item<double>(), 100 * 1e-4 * scale);
  const TorchScriptExtractor described(model_dir() / "channel_means.pt",
                                       {.input_size = 0, .description = "Inception-v3 pool3 (pytorch-fid weights)"});
  EXPECT_EQ(described.label(), "FID (Inception-v3 pool3 (pytorch-fid weights), TorchScript channel_means.pt)");
}

// channel_means.pt returns (B, C, 1, 1) channel means: the channel, range and resize options checked exactly.
TEST(TorchScriptFeatures, InputOptionsAndPooledOutput) {
  if (model_dir().empty()) GTEST_SKIP() << "run through ctest (features_torchscript)";
  torch::manual_seed(2);
  const auto gray = torch::rand({5, 1, 32, 32}) * 2 - 1;
  const auto means = gray.mean({1, 2, 3});

  TorchScriptExtractor as_is(model_dir() / "channel_means.pt",
                             {.input_size = 0, .channels = 1, .input_range = InputRange::kMinusOneToOne});
  EXPECT_EQ(as_is.dim(), 1);
  EXPECT_EQ(as_is.resize(), "none");
  EXPECT_TRUE(torch::allclose(as_is.features(gray).squeeze(1), means, 1e-6, 1e-6));
  EXPECT_THAT(
      [&] {
        try {
          as_is.features(torch::rand({2, 3, 32, 32}));
        } catch (const UserError& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      HasSubstr("channel_means.pt: the network takes 1-channel images; cannot feed 3-channel ones"));

  TorchScriptExtractor rgb_unit(model_dir() / "channel_means.pt", {.input_size = 16, .channels = 3});
  EXPECT_EQ(rgb_unit.dim(), 3);
  EXPECT_EQ(rgb_unit.resize(), "bilinear 16x16 (align_corners=false), gray->RGB, [-1,1]->[0,1]");
  const auto f = rgb_unit.features(gray);
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{5, 3}));
  // Halving with align_corners=false averages 2x2 blocks, so the mean survives the resize.
  for (int c = 0; c < 3; ++c) EXPECT_TRUE(torch::allclose(f.select(1, c), (means + 1) / 2, 1e-5, 1e-6)) << c;
  const auto colour = torch::rand({4, 3, 16, 16}) * 2 - 1;  // already the network's size and channels
  EXPECT_TRUE(torch::allclose(rgb_unit.features(colour), (colour.mean({2, 3}) + 1) / 2, 1e-6, 1e-6));

  TorchScriptExtractor tuple(model_dir() / "tuple_output.pt", {.input_size = 0, .channels = 3});
  EXPECT_TRUE(torch::allclose(tuple.features(colour), (colour.mean({2, 3}) + 1) / 2, 1e-6, 1e-6));
}

TEST(TorchScriptFeatures, BadFilesAreUserErrorsNamingTheFile) {
  if (model_dir().empty()) GTEST_SKIP() << "run through ctest (features_torchscript)";
  const TorchScriptOptions small{.input_size = 32, .channels = 3};
  EXPECT_THAT(error_of("missing.pt"), HasSubstr("missing.pt: no such file; expected a TorchScript feature network"));
  EXPECT_THAT(error_of("not_a_model.pt"), HasSubstr("not_a_model.pt: not a loadable TorchScript model"));
  EXPECT_THAT(error_of("fails_to_run.pt", small), HasSubstr("fails_to_run.pt: fails on (2, 3, 32, 32) images"));
  EXPECT_THAT(error_of("wrong_shape.pt", small),
              HasSubstr("wrong_shape.pt: the network returned Float [2, 3, 2, 2] for 2 images; expected float "
                        "features (2, d) or (2, d, 1, 1)"));
  EXPECT_THAT(error_of("two_tensors.pt", small), HasSubstr("two_tensors.pt: the network returned a Tuple that does "
                                                           "not hold exactly one tensor"));
  EXPECT_THAT(error_of("channel_means.pt", {.input_size = 0, .expected_dim = 2048}),
              HasSubstr("channel_means.pt: the network gives 3-d features; expected 2048-d"));
  EXPECT_THAT(error_of("channel_means.pt", {.channels = 2}), HasSubstr("channels must be 1 or 3, got 2"));
}

}  // namespace
}  // namespace ganleaks::metrics
