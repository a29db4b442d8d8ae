#pragma once
// A small CNN classifier trained by the project on the real data (Fashion-MNIST, Xiao et al. 2017), whose
// penultimate layer is the default feature space of FID (SPEC §4: "FID (FMNIST-classifier features)", never
// Inception FID) and whose predictions give the class histograms of the JS distance (SPEC §3; metrics/features.h).
//
// Network, for (B, channels, H, W) images in [-1, 1] (the project's 32x32 tensors, data/images.h), width w:
//   conv3x3(channels→w, stride 2)·BN·ReLU      32 → 16
//   conv3x3(w→2w, stride 2)·BN·ReLU            16 → 8
//   conv3x3(2w→2w)·BN·ReLU                      8
//   conv3x3(2w→4w, stride 2)·BN·ReLU            8 → 4
//   global average pool → Linear(4w→feature_dim)·ReLU   = features(x), (B, feature_dim)
//   Linear(feature_dim→classes)                          = forward(x), logits (B, classes)
// Strided convolutions instead of conv + max-pool: on the CPU a full-resolution convolution followed by
// pooling cost ~5x the time for ~1 point of accuracy. In eval mode BatchNorm uses its running statistics, so
// every sample is scored on its own (no coupling within a batch).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace ganleaks::models {

struct ClassifierOptions {
  int channels = 1;       // image channels
  int width = 24;         // channels of the first convolution
  int feature_dim = 64;   // FID needs N > feature_dim samples per set
  int classes = 10;
};

class ClassifierImpl : public torch::nn::Module {
 public:
  explicit ClassifierImpl(const ClassifierOptions& options);
  at::Tensor features(const at::Tensor& x);  // (B, channels, H, W), H, W >= 8 -> (B, feature_dim), >= 0
  at::Tensor forward(const at::Tensor& x);   // -> logits (B, classes)
  // The four convolution blocks' outputs (after each ReLU): (B, w, H/2, W/2), (B, 2w, H/4, W/4) twice and
  // (B, 4w, H/8, W/8), the layers the perceptual distance compares (attacks/perceptual.h).
  std::vector<at::Tensor> block_outputs(const at::Tensor& x);
  const ClassifierOptions& options() const { return options_; }

 private:
  ClassifierOptions options_;
  torch::nn::Sequential body_{nullptr};
  torch::nn::Linear embed_{nullptr}, head_{nullptr};
};
TORCH_MODULE(Classifier);

// Adam on the cross-entropy with a cosine learning-rate decay from lr to 0 over `iterations`. The defaults
// (3.2 epochs of the 60 000 training images) reach 91.0–91.1 % Fashion-MNIST test accuracy (seeds 0, 1, 2) in
// about 40 s on one CPU thread (docs/extraction.md).
struct ClassifierTraining {
  int iterations = 3000;
  int batch_size = 64;
  double lr = 2e-3;
  double weight_decay = 0.0;   // Adam's L2 term
  bool flip = false;           // random horizontal flips; at the default length they cost ~0.4 points
  std::uint64_t seed = 0;
  at::Device device = at::kCPU;  // where it trains (weights are drawn on the CPU first: the same on every device)
  std::function<void(int)> on_step;  // after every iteration (the coordinator answers other ranks there)
};

// Trains a classifier on images (N, channels, H, W) in [-1, 1] with labels in [0, classes) and returns it in
// eval mode. Reproducible bit for bit at a fixed thread count: the initial weights come from
// torch::manual_seed(derive_seed(seed, "classifier-init")) — this RESEEDS LibTorch's global generator — and
// the batch order (a reshuffle of all N every epoch, as train/trainer.cpp's BatchSampler) and flips from
// core/seeding.h Rng streams derived from the seed. Bad shapes or labels: std::invalid_argument.
Classifier train_classifier(const at::Tensor& images, std::span<const std::int64_t> labels,
                            const ClassifierOptions& options, const ClassifierTraining& training);

// A classifier trained on one Fashion-MNIST file of `data_dir` ("train" or "test") and tested on the other, at
// `image_size` (data/images.h), as the jobs that cache one do: extraction's FID/JS classifier and membership's
// perceptual distance.
struct FashionMnistClassifier {
  Classifier model{nullptr};
  double test_accuracy = 0;
  std::int64_t train_records = 0, test_records = 0;
};
FashionMnistClassifier train_fashion_mnist_classifier(const std::filesystem::path& data_dir, std::string_view train_file,
                                                      int image_size, const ClassifierOptions& options,
                                                      const ClassifierTraining& training);

// The functions below take the model by const reference but share its module (a ModuleHolder): they put it in
// eval mode.

// Fraction of images whose arg-max class equals the label (eval mode, no gradients, in batches).
double classifier_accuracy(const Classifier& model, const at::Tensor& images, std::span<const std::int64_t> labels);

// Arg-max classes (N) int64 of images, eval mode, no gradients, in batches of 500.
at::Tensor classifier_predictions(const Classifier& model, const at::Tensor& images);

// Weights, BatchNorm statistics and the options, written atomically (io/atomic_file.h).
void save_classifier(const Classifier& model, const std::filesystem::path& file);

// The classifier saved in `file`, in eval mode. UserError naming the file when it is missing, not a file
// written by save_classifier, or saved with other options than `options`.
Classifier load_classifier(const ClassifierOptions& options, const std::filesystem::path& file,
                           const at::Device& device = at::kCPU);

}  // namespace ganleaks::models
