#include "models/classifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <numeric>

#include "core/errors.h"
#include "data/idx.h"
#include "data/images.h"

namespace ganleaks::models {
namespace {

using ::testing::HasSubstr;

std::filesystem::path temp_file(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("ganleaks-test-classifier-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

// The first `count` images of a Fashion-MNIST pool as the project's 32x32 tensors, with their labels.
struct Labelled {
  at::Tensor images;
  std::vector<std::int64_t> labels;
};
Labelled fashion_mnist(std::string_view pool, std::int64_t count) {
  const auto set = data::load_fashion_mnist(data::kFashionMnistDefaultDir, pool);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(std::min(count, set.count)));
  std::iota(rows.begin(), rows.end(), std::int64_t{0});
  Labelled out{data::images_to_tensor(set, rows, 32), {}};
  for (auto r : rows) out.labels.push_back(set.labels[static_cast<std::size_t>(r)]);
  return out;
}

std::string load_error(const ClassifierOptions& options, const std::filesystem::path& file) {
  try {
    load_classifier(options, file);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

void expect_same_state(Classifier& a, Classifier& b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  const auto ba = a->named_buffers(), bb = b->named_buffers();
  ASSERT_EQ(ba.size(), bb.size());
  for (const auto& p : ba) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
}

TEST(Classifier, FeaturesAndLogitsHaveTheirShapes) {
  torch::manual_seed(0);
  Classifier model(ClassifierOptions{.width = 4, .feature_dim = 8});
  model->eval();
  const auto x = torch::rand({5, 1, 32, 32}) * 2 - 1;
  const auto f = model->features(x);
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{5, 8}));
  EXPECT_GE(f.min().item<float>(), 0.0f);  // after the ReLU
  EXPECT_EQ(model->forward(x).sizes(), (std::vector<std::int64_t>{5, 10}));
  EXPECT_EQ(model->forward(torch::rand({2, 1, 28, 28})).sizes(), (std::vector<std::int64_t>{2, 10}));
  EXPECT_THROW(model->forward(torch::rand({2, 3, 32, 32})), c10::Error);
  EXPECT_THROW(model->forward(torch::rand({1, 32, 32})), c10::Error);
}

// The perceptual distance's layers (attacks/perceptual.h): the four convolution blocks after their ReLU.
TEST(Classifier, BlockOutputsAreTheFourConvolutionBlocks) {
  torch::manual_seed(0);
  Classifier model(ClassifierOptions{.width = 4, .feature_dim = 8});
  model->eval();
  const auto blocks = model->block_outputs(torch::rand({3, 1, 32, 32}) * 2 - 1);
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0].sizes(), (std::vector<std::int64_t>{3, 4, 16, 16}));
  EXPECT_EQ(blocks[1].sizes(), (std::vector<std::int64_t>{3, 8, 8, 8}));
  EXPECT_EQ(blocks[2].sizes(), (std::vector<std::int64_t>{3, 8, 8, 8}));
  EXPECT_EQ(blocks[3].sizes(), (std::vector<std::int64_t>{3, 16, 4, 4}));
  for (const auto& b : blocks) EXPECT_GE(b.min().item<float>(), 0.0f);
}

// The jobs that cache a classifier train it on one Fashion-MNIST file and test it on the other.
TEST(Classifier, FashionMnistClassifierTrainsOnOneFileAndTestsOnTheOther) {
  const auto trained = train_fashion_mnist_classifier(data::kFashionMnistDefaultDir, "test", 32,
                                                      ClassifierOptions{.width = 4, .feature_dim = 8},
                                                      {.iterations = 3, .batch_size = 16});
  EXPECT_EQ(trained.train_records, 10000);
  EXPECT_EQ(trained.test_records, 60000);
  EXPECT_GE(trained.test_accuracy, 0.0);
  EXPECT_LE(trained.test_accuracy, 1.0);
  EXPECT_FALSE(trained.model->is_training());
  EXPECT_THROW(train_fashion_mnist_classifier(data::kFashionMnistDefaultDir, "all", 32, {}, {}), c10::Error);
}

// In eval mode BatchNorm uses its running statistics: a sample scores the same alone as inside a batch.
TEST(Classifier, EvalModeScoresEverySampleOnItsOwn) {
  torch::manual_seed(1);
  Classifier model(ClassifierOptions{.width = 6, .feature_dim = 12});
  model->train();
  {
    torch::NoGradGuard no_grad;  // move the running statistics away from (0, 1)
    for (int i = 0; i < 3; ++i) model->forward(torch::rand({16, 1, 32, 32}) * 1.5 - 0.8);
  }
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({6, 1, 32, 32}) * 2 - 1;
  const auto batch = model->forward(x);
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(torch::allclose(model->forward(x.slice(0, i, i + 1)), batch.slice(0, i, i + 1), 1e-5, 1e-6)) << i;
  }
  model->train();  // the check can fail: in training mode the batch statistics couple the samples
  EXPECT_FALSE(torch::allclose(model->forward(x.slice(0, 0, 1)), model->forward(x).slice(0, 0, 1), 1e-3, 1e-4));
}

// A short run on 4000 real Fashion-MNIST images is far above chance (10 %) on 2000 test images.
TEST(Classifier, LearnsFashionMnistInAShortRun) {
  const auto train = fashion_mnist("train", 4000), test = fashion_mnist("test", 2000);
  const auto start = std::chrono::steady_clock::now();
  // const, as callers hold it
  const auto model = train_classifier(train.images, train.labels, {}, {.iterations = 300, .seed = 3});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(model->is_training());
  const double accuracy = classifier_accuracy(model, test.images, test.labels);
  RecordProperty("test_accuracy", std::to_string(accuracy));
  std::printf("300 iterations on 4000 images: test accuracy %.4f, %.1f s\n", accuracy, seconds);
  EXPECT_GE(accuracy, 0.70);
  const auto predicted = classifier_predictions(model, test.images.slice(0, 0, 7));
  EXPECT_EQ(predicted.sizes(), (std::vector<std::int64_t>{7}));
}

TEST(Classifier, SameSeedGivesBitwiseTheSameWeights) {
  torch::manual_seed(5);
  const auto x = torch::rand({256, 1, 32, 32}) * 2 - 1;
  std::vector<std::int64_t> labels(256);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 10);
  const ClassifierOptions options{.width = 6, .feature_dim = 12};
  auto a = train_classifier(x, labels, options, {.iterations = 25, .batch_size = 32, .seed = 9});
  torch::manual_seed(123);  // the global generator's state before the call does not matter
  auto b = train_classifier(x, labels, options, {.iterations = 25, .batch_size = 32, .seed = 9});
  expect_same_state(a, b);
  auto c = train_classifier(x, labels, options, {.iterations = 25, .batch_size = 32, .seed = 10});
  EXPECT_FALSE(torch::equal(a->named_parameters()["embed.weight"], c->named_parameters()["embed.weight"]));
  const ClassifierTraining flipped{.iterations = 25, .batch_size = 32, .flip = true, .seed = 9};
  auto d = train_classifier(x, labels, options, flipped), e = train_classifier(x, labels, options, flipped);
  expect_same_state(d, e);  // the flips are seeded too
  EXPECT_FALSE(torch::equal(a->named_parameters()["embed.weight"], d->named_parameters()["embed.weight"]));
}

TEST(Classifier, RefusesBadLabels) {
  const auto x = torch::zeros({4, 1, 32, 32});
  const std::vector<std::int64_t> out_of_range{0, 1, 10, 2}, too_few{0, 1, 2};
  EXPECT_THROW(train_classifier(x, out_of_range, {}, {.iterations = 1}), std::invalid_argument);
  EXPECT_THROW(train_classifier(x, too_few, {}, {.iterations = 1}), std::invalid_argument);
  EXPECT_THROW(train_classifier(torch::zeros({4, 3, 32, 32}), too_few, {}, {.iterations = 1}), std::invalid_argument);
}

TEST(Classifier, SaveLoadRoundTrip) {
  torch::manual_seed(6);
  const auto x = torch::rand({64, 1, 32, 32}) * 2 - 1;
  std::vector<std::int64_t> labels(64);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 3);
  const ClassifierOptions options{.width = 4, .feature_dim = 8, .classes = 3};
  auto model = train_classifier(x, labels, options, {.iterations = 10, .batch_size = 16});
  const auto file = temp_file("round-trip.pt");
  save_classifier(model, file);
  auto loaded = load_classifier(options, file);
  EXPECT_FALSE(loaded->is_training());
  expect_same_state(model, loaded);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(model->forward(x), loaded->forward(x)));
  for (const auto& entry : std::filesystem::directory_iterator(file.parent_path())) {  // no temporary left over
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".tmp-")));
  }
}

TEST(Classifier, WrongFilesAreUserErrorsNamingTheFile) {
  const ClassifierOptions options{.width = 4, .feature_dim = 8};
  EXPECT_THAT(load_error(options, temp_file("missing.pt")), HasSubstr("missing.pt: no such file"));
  const auto text = temp_file("text.pt");
  std::ofstream(text) << "not a classifier\n";
  EXPECT_THAT(load_error(options, text), HasSubstr("text.pt: not a classifier file"));
  const auto other = temp_file("other-archive.pt");
  torch::serialize::OutputArchive archive;
  archive.write("weights", torch::ones({3}));
  archive.save_to(other.string());
  EXPECT_THAT(load_error(options, other), HasSubstr("other-archive.pt: not a classifier file (no "));
  torch::manual_seed(7);
  Classifier wider(ClassifierOptions{.width = 8, .feature_dim = 8});
  const auto file = temp_file("wider.pt");
  save_classifier(wider, file);
  EXPECT_THAT(load_error(options, file),
              HasSubstr("wider.pt: classifier saved with channels 1, width 8, feature_dim 8, classes 10; expected "
                        "channels 1, width 4, feature_dim 8, classes 10"));
}

}  // namespace
}  // namespace ganleaks::models
