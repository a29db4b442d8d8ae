#pragma once
// Feature extractors behind FID (SPEC §4) and the classes behind the JS distance of class histograms (SPEC §3),
// one interface for every network, so that the FID code never depends on which one is used.
//
// - ClassifierExtractor: the default, the penultimate layer of the project's own classifier trained on the real
//   data (models/classifier.h). Reported as "FID (FMNIST-classifier features)": it is NOT Inception FID, and
//   its values are comparable only with other values of the same classifier file.
// - TorchScriptExtractor: a network the user supplies as a TorchScript file, e.g. Inception-v3 pool3 (2048-d;
//   Szegedy et al. 2016, as used by Heusel et al. 2017 and pytorch-fid). ganleaks cannot check which weights a
//   file holds, so its label names the file and, only when the user says so (TorchScriptOptions::description),
//   what it is; the project never calls it "Inception FID" by itself.
//
// Every FID travels with name(), label(), resize() and N (FeatureFid below); the caller adds the seed.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "metrics/fid.h"
#include "models/classifier.h"

namespace ganleaks::metrics {

class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;
  virtual std::string name() const = 0;    // short id for results files: "fmnist-classifier-64d", "torchscript:<file>"
  virtual std::string label() const = 0;   // for reports: "FID (FMNIST-classifier features)"
  virtual std::int64_t dim() const = 0;
  // Images (B, C, H, W) in [-1, 1] -> (B, dim) float32 on the CPU; eval mode, no gradients, in batches.
  virtual at::Tensor features(const at::Tensor& images) = 0;
  virtual std::string resize() const = 0;  // the transformation applied to the images first ("none", ...)
};

struct ClassifierExtractorOptions {
  std::string dataset = "FMNIST";  // the real data the classifier was trained on, for the name and label
  std::int64_t batch_size = 500;
};

class ClassifierExtractor : public FeatureExtractor {
 public:
  explicit ClassifierExtractor(models::Classifier classifier, ClassifierExtractorOptions options = {});
  std::string name() const override;    // "<dataset lower case>-classifier-<dim>d"
  std::string label() const override;   // "FID (<dataset>-classifier features)"
  std::int64_t dim() const override;
  at::Tensor features(const at::Tensor& images) override;
  std::string resize() const override { return "none"; }
  // Arg-max classes of images, for class_histogram (metrics/divergence.h).
  std::vector<std::int64_t> predict_classes(const at::Tensor& images);
  models::Classifier& classifier() { return classifier_; }

 private:
  models::Classifier classifier_;
  ClassifierExtractorOptions options_;
};

enum class InputRange {
  kMinusOneToOne,  // the images as they are
  kZeroToOne,      // (x + 1) / 2, e.g. pytorch-fid's InceptionV3 wrapper (which maps to [-1, 1] itself)
};

struct TorchScriptOptions {
  int input_size = 299;     // bilinear resize (align_corners = false, no antialias) to S x S; 0: as given
  int channels = 3;         // 1 or 3; 1-channel images are repeated to 3
  InputRange input_range = InputRange::kZeroToOne;
  std::int64_t expected_dim = 0;  // 0: any; e.g. 2048 for Inception pool3
  std::int64_t batch_size = 50;
  std::string description;  // what the user says the network is, e.g. "Inception-v3 pool3"; goes into label()
  at::Device device = at::kCPU;  // where the network runs; features come back there
};

// Contract of the file: `module.forward(x)`, x of shape (B, channels, S, S), returns (B, d) or (B, d, 1, 1)
// float features, or a tuple/list whose only tensor is that (e.g. a scripted torchvision Inception returns
// (features, None); pytorch-fid's wrapper a list of one block). Checked on load with a probe batch of 2 images.
class TorchScriptExtractor : public FeatureExtractor {
 public:
  // UserError naming the file and what was expected when the file is missing, not TorchScript, fails on the
  // probe, or returns another shape (or another dimension than expected_dim).
  TorchScriptExtractor(const std::filesystem::path& file, TorchScriptOptions options = {});
  ~TorchScriptExtractor() override;
  TorchScriptExtractor(TorchScriptExtractor&&) noexcept;

  std::string name() const override;    // "torchscript:<file name>"
  // "FID (TorchScript features: <file name>)", or "FID (<description>, TorchScript <file name>)"
  std::string label() const override;
  std::int64_t dim() const override;
  at::Tensor features(const at::Tensor& images) override;
  std::string resize() const override;  // e.g. "bilinear 299x299 (align_corners=false), gray->RGB, [-1,1]->[0,1]"
  const std::filesystem::path& file() const;  // as given, for provenance (name() and label() hold its file name)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One FID with what SPEC §4 records beside it (the caller adds the seed of the samples).
struct FeatureFid {
  double fid = 0;
  std::int64_t count_a = 0, count_b = 0, dim = 0;
  std::string extractor, label, resize;
};

// FID between the features of two image sets (each N > dim, else std::invalid_argument).
FeatureFid feature_fid(FeatureExtractor& extractor, const at::Tensor& images_a, const at::Tensor& images_b);

}  // namespace ganleaks::metrics
