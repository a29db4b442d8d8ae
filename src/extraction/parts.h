#pragma once
// What the extraction jobs (extraction/jobs.h) share, private to their .cpp files: the evaluator (the
// classifier and the FID feature network), images and statistics between ranks and files, the record writer.
// Inline: four translation units include it, each already compiling LibTorch.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>

#include "dist/collectives.h"
#include "dist/device.h"
#include "dist/placement.h"
#include "extraction/jobs.h"
#include "extraction/statistics.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "io/record.h"
#include "metrics/features.h"
#include "models/classifier.h"
#include "models/sampling.h"
#include "models/zoo.h"

namespace ganleaks::extraction {

constexpr std::int64_t kClasses = 10;  // Fashion-MNIST
inline const std::vector<std::int64_t> kImageShape{1, 32, 32};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline at::Generator stream(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

inline at::Tensor as_images(const at::Tensor& flat) { return flat.reshape({flat.size(0), 1, 32, 32}); }

inline std::filesystem::path classifier_file(const std::filesystem::path& dir) { return dir / "classifier.pt"; }

// The TorchScript feature network's options from [features] (input_size, channels, input_range).
inline metrics::TorchScriptOptions torchscript_options(const FeaturesConfig& features) {
  return {.input_size = features.input_size, .channels = features.channels,
          .input_range = features.input_range == "0-1" ? metrics::InputRange::kZeroToOne : metrics::InputRange::kMinusOneToOne};
}

inline models::ClassifierOptions classifier_options(const Config& config) {
  return {.width = config.features.classifier_width, .feature_dim = config.features.classifier_feature_dim,
          .classes = kClasses};
}

// The classifier (class histograms, the defenses' attribute and adversarial model) and the FID feature network
// (the classifier's features, or a user's TorchScript network) of a config.
class Evaluator {
 public:
  Evaluator(const Config& config, const runner::Layout& layout, const at::Device& device)
      : classifier_(models::load_classifier(classifier_options(config),
                                            classifier_file(classifier_dir(layout, config)), device)) {
    if (config.features.extractor == "torchscript") {
      const auto& f = config.features;
      auto options = torchscript_options(config.features);
      options.device = device;
      fid_ = std::make_unique<metrics::TorchScriptExtractor>(f.torchscript_model, options);
    } else {
      fid_ = std::make_unique<metrics::ClassifierExtractor>(classifier_);
    }
  }

  // Features for FID and predicted classes for the histograms.
  FeatureFunctions functions() {
    return {.dim = fid_->dim(),
            .features = [this](const at::Tensor& x) { return fid_->features(x); },
            .classes = static_cast<int>(kClasses),
            .predict = [this](const at::Tensor& x) { return logits(x).argmax(1); }};
  }
  at::Tensor logits(const at::Tensor& images) { return classifier_->forward(images); }
  const metrics::FeatureExtractor& fid() const { return *fid_; }

  // Recorded with every FID (SPEC §4: N, extractor, input transformation, seed).
  void describe(const io::H5Group& g, std::int64_t samples, std::uint64_t seed) const {
    g.set_attr("fid_extractor", fid_->name());
    g.set_attr("fid_label", fid_->label());
    g.set_attr("fid_input", fid_->resize());
    g.set_attr("fid_dim", fid_->dim());
    g.set_attr("fid_samples", samples);
    g.set_attr("fid_seed", static_cast<std::int64_t>(seed));
  }

 private:
  models::Classifier classifier_;
  std::unique_ptr<metrics::FeatureExtractor> fid_;
};

inline models::Networks load_run(const ExtractionInputs& in, const std::string& model, const std::string& run) {
  return models::load_release(in.config.model.only(model), kImageShape, in.layout.run_dir(run), in.device);
}

inline std::string target_of(const ExtractionInputs& in, const Job& job) { return target_run_name(in.config, job.model, job.seed); }

// `count` generated images of chunk c of a generator's sample stream (the full chunk runs, as for fbb).
inline at::Tensor generated(models::GeneratorBase& g, std::uint64_t stream_seed, std::int64_t chunk, std::int64_t count) {
  return as_images(models::generate_chunk(g, stream_seed, chunk, count));
}

// ---- Images between ranks and files ---------------------------------------------------------------------

// One piece of a chunked result on the rank that made it: images (count, 1, 32, 32) row-major, or logits.
template <class T>
struct Chunk {
  std::int64_t chunk = 0;  // orders the pieces (a chunk index, or a refined sample's position)
  std::vector<T> values;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & chunk & values;
  }
};
using ChunkImages = Chunk<float>;
using ChunkValues = Chunk<double>;

// Every rank's pieces (as gathered, by rank) concatenated in chunk order.
template <class T>
std::vector<T> in_chunk_order(std::vector<std::vector<Chunk<T>>> parts) {
  std::vector<Chunk<T>> all;
  for (auto& part : parts) std::move(part.begin(), part.end(), std::back_inserter(all));
  std::ranges::sort(all, {}, &Chunk<T>::chunk);
  std::vector<T> out;
  for (const auto& c : all) out.insert(out.end(), c.values.begin(), c.values.end());
  return out;
}

inline std::vector<float> values_of(const at::Tensor& t) {
  const auto c = dist::to_host(t.to(torch::kFloat32));
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Rank 0 gets every rank's chunks in chunk order, concatenated ((N, 1, 32, 32)); other ranks get nothing.
inline std::vector<float> gather_images(const dist::Comm& world, const std::vector<ChunkImages>& mine) {
  return in_chunk_order(dist::gather_values(world, mine, 0));  // nothing gathered off rank 0
}

inline void write_images(const io::H5Group& root, const std::vector<float>& images) {
  const std::int64_t per_image = 32 * 32;
  const std::vector<std::int64_t> dims{static_cast<std::int64_t>(images.size()) / per_image, 1, 32, 32};
  root.write_array("images", images, dims);
}

inline at::Tensor read_images(const std::filesystem::path& file, std::int64_t rows = 0) {
  const auto in = io::H5File::open_read(file);
  std::vector<std::int64_t> dims;
  auto values = in.root().read_floats("images", dims, rows);
  // host: images read from a file; jobs move what they train on.
  return torch::from_blob(values.data(), dims, torch::kFloat32).clone();
}

using Clock = std::chrono::steady_clock;

// Rank 0 commits a collective job's record atomically: the job's hash, what fill() writes, then where and how
// long it ran. With images (queries, refined): /images beside a /record group (results.h5 copies the record
// only); without: the record is the file's root.
inline void commit_record(const std::filesystem::path& path, const Job& job, const ExtractionInputs& in, Clock::time_point start,
                   const std::vector<float>* images, const std::function<void(const io::H5Group&)>& fill) {
  io::commit_record(path, [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    file.root().set_attr("job_hash", job.hash);
    if (images) write_images(file.root(), *images);
    const auto r = images ? file.root().create_group("record") : file.root();
    r.set_attr("job_hash", job.hash);
    r.set_attr("seed", static_cast<std::int64_t>(job.seed));
    r.set_attr("queries", job.queries);
    fill(r);
    r.set_attr("wall_seconds", std::chrono::duration<double>(Clock::now() - start).count());
    dist::record_placement(r, dist::placement(0, in.world.size(), in.device.str()));
  });
}

inline void write_stats(const io::H5Group& g, const std::string& prefix, const SampleStatistics& s) {
  const auto mean = dist::to_host(s.gaussian.mean), cov = dist::to_host(s.gaussian.covariance);
  g.write(prefix + "_mean", std::span<const double>(mean.data_ptr<double>(), mean.numel()));
  g.write_matrix(prefix + "_covariance", std::span<const double>(cov.data_ptr<double>(), cov.numel()), cov.size(0),
                 cov.size(1));
  g.set_attr(prefix + "_samples", s.gaussian.count);
  g.write(prefix + "_class_histogram", std::span<const double>(s.class_histogram()));
}

struct StoredStats {
  metrics::GaussianStats gaussian;
  std::vector<double> class_histogram;
};

inline StoredStats read_stats(const io::H5Group& g, const std::string& prefix) {
  auto mean = g.read_doubles(prefix + "_mean");
  auto cov = g.read_doubles(prefix + "_covariance");
  const auto d = static_cast<std::int64_t>(mean.size());
  // host: stored statistics; FID of two sets is computed where their statistics are (the host after a gather).
  return {{torch::tensor(mean, torch::kFloat64), torch::tensor(cov, torch::kFloat64).view({d, d}),
           g.attr_int(prefix + "_samples")},
          g.read_doubles(prefix + "_class_histogram")};
}

// FID both ways of SPEC §4: the eigh route and, as its cross-check, the eigenvalues of Σ₁Σ₂.
struct Fid {
  double value = kNaN, via_product = kNaN;
};
inline Fid fid(const metrics::GaussianStats& a, const metrics::GaussianStats& b) {
  return {metrics::frechet_distance(a, b), metrics::frechet_distance_via_product(a, b)};
}


}  // namespace ganleaks::extraction
