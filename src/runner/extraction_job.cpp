#include "runner/extraction_job.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "attacks/defenses.h"
#include "attacks/membership.h"
#include "attacks/refine.h"
#include "core/log.h"
#include "core/seeding.h"
#include "data/images.h"
#include "data/idx.h"
#include "io/atomic_file.h"
#include "io/h5.h"
#include "metrics/divergence.h"
#include "metrics/features.h"
#include "models/classifier.h"
#include "models/zoo.h"
#include "runner/messages.h"
#include "runner/provenance.h"
#include "runner/sample_statistics.h"

namespace ganleaks::runner {
namespace {

constexpr std::int64_t kClasses = 10;  // Fashion-MNIST
const std::vector<std::int64_t> kImageShape{1, 32, 32};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

at::Generator stream(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Tensor as_images(const at::Tensor& flat) { return flat.reshape({flat.size(0), 1, 32, 32}); }

std::filesystem::path classifier_file(const std::filesystem::path& dir) { return dir / "classifier.pt"; }

models::ClassifierOptions classifier_options(const Config& config) {
  return {.width = config.features.classifier_width, .feature_dim = config.features.classifier_feature_dim,
          .classes = kClasses};
}

// The classifier (class histograms, the defenses' attribute and adversarial model) and the FID feature network
// (the classifier's features, or a user's TorchScript network) of a config.
class Evaluator {
 public:
  Evaluator(const Config& config, const Layout& layout)
      : classifier_(models::load_classifier(classifier_options(config),
                                            classifier_file(layout.classifier_dir(classifier_cache_key(config))))) {
    if (config.features.extractor == "torchscript") {
      const auto& f = config.features;
      fid_ = std::make_unique<metrics::TorchScriptExtractor>(f.torchscript_model, metrics::torchscript_options(config.features));
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

models::Networks load_run(const ExtractionInputs& in, const std::string& model, const std::string& run) {
  return models::load_release(in.config.model.only(model), kImageShape, in.layout.run_dir(run));
}

std::string target_of(const ExtractionInputs& in, const Job& job) { return target_run_name(in.config, job.model, job.seed); }

// `count` generated images of chunk c of a generator's sample stream (the full chunk runs, as for fbb).
at::Tensor generated(models::GeneratorBase& g, std::uint64_t stream_seed, std::int64_t chunk, std::int64_t count) {
  return as_images(attacks::generate_chunk(g, stream_seed, chunk, count));
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

// Every rank's pieces (as gathered bytes) concatenated in chunk order.
template <class T>
std::vector<T> in_chunk_order(const std::vector<std::vector<std::byte>>& parts) {
  std::vector<Chunk<T>> all;
  for (const auto& bytes : parts) {
    auto part = from_bytes<std::vector<Chunk<T>>>(bytes);
    std::move(part.begin(), part.end(), std::back_inserter(all));
  }
  std::ranges::sort(all, {}, &Chunk<T>::chunk);
  std::vector<T> out;
  for (const auto& c : all) out.insert(out.end(), c.values.begin(), c.values.end());
  return out;
}

std::vector<float> values_of(const at::Tensor& t) {
  const auto c = t.to(torch::kFloat32).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Rank 0 gets every rank's chunks in chunk order, concatenated ((N, 1, 32, 32)); other ranks get nothing.
std::vector<float> gather_images(const dist::Comm& world, const std::vector<ChunkImages>& mine) {
  const auto parts = world.gather(to_bytes(mine), 0);
  return world.is_root() ? in_chunk_order<float>(parts) : std::vector<float>{};
}

void write_images(const io::H5Group& root, const std::vector<float>& images) {
  const std::int64_t per_image = 32 * 32;
  const std::vector<std::int64_t> dims{static_cast<std::int64_t>(images.size()) / per_image, 1, 32, 32};
  root.write_array("images", images, dims);
}

at::Tensor read_images(const std::filesystem::path& file, std::int64_t rows = 0) {
  const auto in = io::H5File::open_read(file);
  std::vector<std::int64_t> dims;
  auto values = in.root().read_floats("images", dims, rows);
  return torch::from_blob(values.data(), dims, torch::kFloat32).clone();
}

using Clock = std::chrono::steady_clock;

// Rank 0 commits a collective job's record atomically: the job's hash, what fill() writes, then where and how
// long it ran. With images (queries, refined): /images beside a /record group (results.h5 copies the record
// only); without: the record is the file's root.
void commit_record(const std::filesystem::path& path, const Job& job, const ExtractionInputs& in, Clock::time_point start,
                   const std::vector<float>* images, const std::function<void(const io::H5Group&)>& fill) {
  io::write_atomically(path, [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    file.root().set_attr("job_hash", job.hash);
    if (images) write_images(file.root(), *images);
    const auto r = images ? file.root().create_group("record") : file.root();
    r.set_attr("job_hash", job.hash);
    r.set_attr("seed", static_cast<std::int64_t>(job.seed));
    r.set_attr("queries", job.queries);
    fill(r);
    r.set_attr("wall_seconds", std::chrono::duration<double>(Clock::now() - start).count());
    record_placement(r, placement(0, in.world.size()));
  });
}

void write_stats(const io::H5Group& g, const std::string& prefix, const SampleStatistics& s) {
  const auto mean = s.gaussian.mean.contiguous(), cov = s.gaussian.covariance.contiguous();
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

StoredStats read_stats(const io::H5Group& g, const std::string& prefix) {
  auto mean = g.read_doubles(prefix + "_mean");
  auto cov = g.read_doubles(prefix + "_covariance");
  const auto d = static_cast<std::int64_t>(mean.size());
  return {{torch::tensor(mean, torch::kFloat64), torch::tensor(cov, torch::kFloat64).view({d, d}),
           g.attr_int(prefix + "_samples")},
          g.read_doubles(prefix + "_class_histogram")};
}

// FID both ways of SPEC §4: the eigh route and, as its cross-check, the eigenvalues of Σ₁Σ₂.
struct Fid {
  double value = kNaN, via_product = kNaN;
};
Fid fid(const metrics::GaussianStats& a, const metrics::GaussianStats& b) {
  const double mean_term = (a.mean - b.mean).pow(2).sum().item<double>();
  return {metrics::frechet_distance(a, b), mean_term + a.covariance.trace().item<double>() +
                                               b.covariance.trace().item<double>() -
                                               2 * metrics::trace_sqrt_of_product(a, b)};
}

// ---- The defenses (SPEC §3; attacks/defenses.h holds the pure functions) --------------------------------

// A defended target: what it does to each chunk of latents before the generator and to each chunk of answers
// after it. Every draw comes from a stream named by the chunk, so the answers do not depend on the ranks.
class Defense {
 public:
  Defense(const Job& job, const Config& config, models::GeneratorBase& target, Evaluator& evaluator,
          const dist::Comm& world)
      : job_(job), evaluator_(evaluator), steps_(config.defenses.adversarial_steps) {
    const auto z_dim = target.z_dim();
    if (job.defense == "linear") {
      // The owner's secret latents, from the target's own prior.
      partners_ = torch::randn({config.defenses.linear_partners, z_dim}, stream(derive_seed(job.seed, "owner-partners")));
    } else if (job.defense == "semantic") {
      directions_ = semantic_directions(config, target, world);
    }
  }

  at::Tensor latents(const at::Tensor& z, std::int64_t chunk) const {
    if (job_.defense == "linear") {
      auto choice = stream(derive_seed(job_.seed, "partner-choice", static_cast<std::uint64_t>(chunk)));
      const auto index = torch::randint(partners_.size(0), {z.size(0)}, choice);
      return attacks::linear_interpolation(z, partners_.index_select(0, index), job_.strength);
    }
    if (job_.defense == "semantic") {
      auto choice = stream(derive_seed(job_.seed, "semantic-choice", static_cast<std::uint64_t>(chunk)));
      const auto which = torch::randint(directions_.size(0), {z.size(0)}, choice);
      return attacks::semantic_interpolation(z, directions_, which, job_.strength);
    }
    return z;
  }

  at::Tensor answers(const at::Tensor& images, std::int64_t chunk) const {
    if (job_.defense == "gaussian-noise") {
      auto noise = stream(derive_seed(job_.seed, "defense-noise", static_cast<std::uint64_t>(chunk)));
      return attacks::gaussian_noise(images, job_.strength, noise);
    }
    if (job_.defense == "gaussian-filter") return attacks::gaussian_filter(images, job_.strength);
    if (job_.defense == "jpeg") return attacks::jpeg_compression(images, static_cast<int>(job_.strength));
    if (job_.defense == "adversarial-noise") {
      return attacks::adversarial_noise(
          images, [this](const at::Tensor& x) { return evaluator_.logits(x); }, job_.strength, steps_);
    }
    return images;
  }

  const at::Tensor& directions() const { return directions_; }

 private:
  // One hyperplane per class (InterFaceGAN-style): the classifier's logit of class c scores semantic_samples of
  // the target's samples; a linear SVM separates the top from the bottom k latents. Rank 0 fits, all receive.
  at::Tensor semantic_directions(const Config& config, models::GeneratorBase& target, const dist::Comm& world) {
    const auto z_dim = target.z_dim();
    std::vector<std::byte> bytes;
    if (world.is_root()) {
      torch::NoGradGuard no_grad;
      target.eval();
      const auto n = config.defenses.semantic_samples;
      const auto z = torch::randn({n, z_dim}, stream(derive_seed(job_.seed, "semantic-fit")));
      std::vector<at::Tensor> logits;
      for (std::int64_t first = 0; first < n; first += kStatisticsChunk) {
        const auto count = std::min(kStatisticsChunk, n - first);
        logits.push_back(evaluator_.logits(target.forward(z.narrow(0, first, count))));
      }
      const auto scores = torch::cat(logits);
      std::vector<at::Tensor> normals;
      for (std::int64_t c = 0; c < scores.size(1); ++c) {
        normals.push_back(attacks::semantic_direction(z, scores.select(1, c).contiguous(), config.defenses.semantic_k));
      }
      const auto all = torch::stack(normals).to(torch::kFloat32).contiguous();
      const auto* p = reinterpret_cast<const std::byte*>(all.data_ptr<float>());
      bytes.assign(p, p + all.numel() * sizeof(float));
    }
    world.broadcast(bytes, 0);
    const auto count = static_cast<std::int64_t>(bytes.size() / sizeof(float));
    return torch::from_blob(bytes.data(), {count / z_dim, z_dim}, torch::kFloat32).clone();
  }

  const Job& job_;
  Evaluator& evaluator_;
  at::Tensor partners_, directions_;
  int steps_;  // adversarial-noise: PGD steps
};

// The thief's latents of one chunk of queries, from its prior (SPEC §3, Table 7: N(0, I) or U(-1, 1)); the
// stream is named by the prior only, so every defense answers the same queries.
at::Tensor query_latents(const Job& job, std::int64_t chunk, std::int64_t z_dim) {
  auto g = stream(derive_seed(derive_seed(job.seed, "queries:" + job.prior), "chunk", static_cast<std::uint64_t>(chunk)));
  return job.prior == "uniform" ? torch::rand({kStatisticsChunk, z_dim}, g) * 2 - 1
                                : torch::randn({kStatisticsChunk, z_dim}, g);
}

// ---- queries: the target answers ------------------------------------------------------------------------

void answer_queries(const Job& job, const ExtractionInputs& in) {
  const auto start = Clock::now();
  Evaluator evaluator(in.config, in.layout);
  auto target = load_run(in, job.model, target_of(in, job));
  auto& g = *target.generator;
  Defense defense(job, in.config, g, evaluator, in.world);
  const auto functions = evaluator.functions();
  const ShardedChunks chunks(in.world, job.queries, functions.dim);
  // The defense's utility cost: FID between the defended and the undefended answers to the same first queries.
  const bool defended = !job.defense.empty();
  const auto utility_samples = std::min(job.queries, in.config.extraction.fid_samples);
  const ShardedChunks utility_chunks(in.world, utility_samples, functions.dim);
  StatisticsAccumulator defended_stats(utility_chunks, functions), plain_stats(utility_chunks, functions);
  std::vector<ChunkImages> mine;
  for (std::int64_t c = 0; c < chunks.chunks(); ++c) {
    if (!chunks.mine(c)) continue;
    const auto count = chunks.size_of(c);
    const auto z = query_latents(job, c, g.z_dim());
    at::Tensor plain, answers;
    {
      torch::NoGradGuard no_grad;
      g.eval();
      // The generator always runs on the whole chunk (kernels depend on the batch size).
      plain = g.forward(z).narrow(0, 0, count);
      answers = defended ? g.forward(defense.latents(z, c)).narrow(0, 0, count) : plain;
    }
    answers = defense.answers(answers, c);
    if (defended && c < utility_chunks.chunks()) {
      const auto n = utility_chunks.size_of(c);
      defended_stats.add(c, answers.narrow(0, 0, n));
      plain_stats.add(c, plain.narrow(0, 0, n));
    }
    mine.push_back({c, values_of(answers)});
  }
  Fid utility;
  if (defended) utility = fid(defended_stats.finish(in.world).gaussian, plain_stats.finish(in.world).gaussian);
  const auto images = gather_images(in.world, mine);
  if (!in.world.is_root()) return;
  commit_record(in.layout.queries(job.name), job, in, start, &images, [&](const io::H5Group& r) {
    r.set_attr("target", target_of(in, job));
    r.set_attr("target_model", job.model);
    r.set_attr("prior", job.prior);
    r.set_attr("defense", defended ? job.defense : "none");
    r.set_attr("defense_strength", defended ? job.strength : kNaN);
    r.set_attr("generator_calls", job.queries);
    r.set_attr("utility_fid", utility.value);
    r.set_attr("utility_fid_eigenvalues", utility.via_product);
    evaluator.describe(r, defended ? utility_samples : 0, job.seed);
    if (defense.directions().defined()) {
      const auto d = defense.directions().to(torch::kFloat64).contiguous();
      r.write_matrix("semantic_directions", std::span<const double>(d.data_ptr<double>(), d.numel()), d.size(0), d.size(1));
    }
  });
  log::info(fmt::format("queries {}: {} answers{}", job.name, job.queries,
                        defended ? fmt::format(", utility cost FID {:.3f}", utility.value) : ""));
}

// ---- refine: accuracy extraction's subsampling ----------------------------------------------------------

std::vector<double> realness(models::Networks& target, const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  const auto logits = target.discriminator->forward(images).to(torch::kFloat64).contiguous();
  return {logits.data_ptr<double>(), logits.data_ptr<double>() + logits.numel()};
}


// Every rank's values of its chunks, on every rank, in chunk order.
std::vector<double> all_values(const dist::Comm& world, const std::vector<ChunkValues>& mine) {
  return in_chunk_order<double>(world.all_gather(to_bytes(mine)));
}

// Discriminator logits of `total` samples in chunks, on every rank; chunk(c, count) makes the samples.
std::vector<double> sharded_logits(const dist::Comm& world, std::int64_t total, models::Networks& target,
                                   const std::function<at::Tensor(std::int64_t, std::int64_t)>& chunk) {
  const ShardedChunks chunks(world, total, 1);
  std::vector<ChunkValues> mine;
  for (std::int64_t c = 0; c < chunks.chunks(); ++c) {
    if (chunks.mine(c)) mine.push_back({c, realness(target, chunk(c, chunks.size_of(c)))});
  }
  return all_values(world, mine);
}

std::vector<double> uniforms(std::uint64_t seed, std::int64_t count) {
  const auto u = torch::rand({count}, stream(seed), torch::kFloat64).contiguous();
  return {u.data_ptr<double>(), u.data_ptr<double>() + count};
}

void refine(const Job& job, const ExtractionInputs& in) {
  const auto start = std::chrono::steady_clock::now();
  const auto& e = in.config.extraction;
  auto target = load_run(in, job.model, target_of(in, job));
  auto& g = *target.generator;
  target.train(false);
  // Calibration (Turner et al. 2019): D's logits on the thief's real records vs as many generated samples.
  const std::vector<std::int64_t> partial(in.splits.target.begin(), in.splits.target.begin() + e.partial_real);
  const auto calibration_stream = derive_seed(job.seed, "calibration");
  const auto real_logits = sharded_logits(in.world, e.partial_real, target, [&](std::int64_t c, std::int64_t n) {
    const auto first = c * kStatisticsChunk;
    return in.pool.rows(std::span(partial).subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(n)));
  });
  const auto fake_logits = sharded_logits(in.world, e.partial_real, target, [&](std::int64_t c, std::int64_t n) {
    return generated(g, calibration_stream, c, n);
  });
  std::vector<double> scores = real_logits;
  scores.insert(scores.end(), fake_logits.begin(), fake_logits.end());
  std::vector<std::uint8_t> is_real(real_logits.size(), 1);
  is_real.resize(scores.size(), 0);
  const auto calibrator = e.calibration == "platt" ? attacks::Calibrator::platt(scores, is_real)
                                                   : attacks::Calibrator::isotonic(scores, is_real);
  std::int64_t calls = e.partial_real, restarts = 0, accepted_moves = 0;
  std::vector<ChunkImages> mine;  // chunk = the refined sample's position
  std::int64_t refined_count = 0;
  if (job.setting == "mh") {
    // Independence chains of K proposals from a real start (Hu & Pang, Alg. 1); chain i on rank i mod W.
    const auto k = e.mh_chain_length;
    const auto chains = (job.queries - e.partial_real) / k;
    const auto start_probability = calibrator.probabilities(real_logits);
    std::int64_t counts[2] = {0, 0};  // restarted chains, accepted moves
    for (std::int64_t i = in.world.rank(); i < chains; i += in.world.size()) {
      const auto z = torch::randn({k, g.z_dim()}, stream(derive_seed(job.seed, "mh-proposals", static_cast<std::uint64_t>(i))));
      at::Tensor proposals;
      {
        torch::NoGradGuard no_grad;
        proposals = g.forward(z);
      }
      const auto probabilities = calibrator.probabilities(realness(target, proposals));
      // Fresh uniforms for a restart, as Turner et al.'s enhance_samples draws them.
      const auto index = static_cast<std::uint64_t>(i);
      const auto chain = attacks::mh_independence_chain(
          start_probability[static_cast<std::size_t>(i % e.partial_real)], probabilities,
          uniforms(derive_seed(job.seed, "mh-uniforms", index), k),
          uniforms(derive_seed(job.seed, "mh-restart-uniforms", index), k - 1));
      counts[0] += chain.restarted;
      counts[1] += chain.accepted;
      mine.push_back({i, values_of(proposals[chain.index])});
    }
    in.world.all_reduce(std::span(counts), dist::ReduceOp::kSum);
    restarts = counts[0], accepted_moves = counts[1];
    calls += chains * k;
    refined_count = chains;
  } else {
    // DRS (Azadi et al. 2019): the calibration samples are the burn-in; each further proposal is kept or not.
    const auto proposals = job.queries - e.partial_real;
    const auto proposal_stream = derive_seed(job.seed, "drs-proposals");
    const auto logits = sharded_logits(in.world, proposals, target, [&](std::int64_t c, std::int64_t n) {
      return generated(g, proposal_stream, c, n);
    });
    const auto drs = attacks::discriminator_rejection_sampling(fake_logits, logits,
                                                               uniforms(derive_seed(job.seed, "drs-uniforms"), proposals),
                                                               e.drs_gamma_quantile);
    // Every rank knows which were accepted; each sends those of its own chunks.
    const ShardedChunks chunks(in.world, proposals, 1);
    for (std::int64_t c = 0; c < chunks.chunks(); ++c) {
      const auto first = std::ranges::lower_bound(drs.accepted, c * kStatisticsChunk);
      const auto last = std::ranges::lower_bound(drs.accepted, (c + 1) * kStatisticsChunk);
      if (!chunks.mine(c) || first == last) continue;
      const auto images = generated(g, proposal_stream, c, chunks.size_of(c));
      for (auto it = first; it != last; ++it) mine.push_back({*it, values_of(images[*it % kStatisticsChunk])});
    }
    calls += proposals;
    refined_count = static_cast<std::int64_t>(drs.accepted.size());
    accepted_moves = refined_count;
  }
  const auto images = gather_images(in.world, mine);
  if (!in.world.is_root()) return;
  commit_record(in.layout.refined(job.name), job, in, start, &images, [&](const io::H5Group& r) {
    r.set_attr("target", target_of(in, job));
    r.set_attr("refiner", job.setting);
    r.set_attr("calibration", e.calibration);
    r.set_attr("generator_calls", calls);
    r.set_attr("refined", refined_count);
    r.set_attr("partial_real", e.partial_real);
    if (job.setting == "mh") {
      r.set_attr("mh_chain_length", e.mh_chain_length);
      r.set_attr("mh_restarted_chains", restarts);
      r.set_attr("mh_accepted_moves", accepted_moves);
    } else {
      r.set_attr("drs_acceptance_rate", static_cast<double>(refined_count) / static_cast<double>(job.queries - e.partial_real));
      r.set_attr("drs_gamma_quantile", e.drs_gamma_quantile);
    }
    r.write("calibration_real_logits", std::span<const double>(real_logits));
    r.write("calibration_fake_logits", std::span<const double>(fake_logits));
  });
  log::info(fmt::format("refine {}: {} samples from {} generator calls", job.name, refined_count, calls));
}

// ---- evaluate: FID and JS of a trained model -------------------------------------------------------------

SampleStatistics statistics_of_rows(const ExtractionInputs& in, const std::vector<std::int64_t>& rows,
                                    const FeatureFunctions& functions) {
  return sample_statistics(in.world, static_cast<std::int64_t>(rows.size()), [&](std::int64_t c, std::int64_t n) {
    return in.pool.rows(std::span(rows).subspan(static_cast<std::size_t>(c * kStatisticsChunk), static_cast<std::size_t>(n)));
  }, functions);
}

SampleStatistics statistics_of_model(const ExtractionInputs& in, models::Networks& model, std::uint64_t stream_seed,
                                     const FeatureFunctions& functions) {
  return sample_statistics(in.world, in.config.extraction.fid_samples, [&](std::int64_t c, std::int64_t n) {
    return generated(*model.generator, stream_seed, c, n);
  }, functions);
}

void evaluate(const Job& job, const ExtractionInputs& in) {
  const auto start = Clock::now();
  Evaluator evaluator(in.config, in.layout);
  const auto functions = evaluator.functions();
  const auto model_name = job.method == "target" ? job.model : [&] {
    // Attack and transfer runs record their own model.
    const auto record = io::H5File::open_read(in.layout.run_record(job.input));
    return record.root().attr_string("model");
  }();
  auto model = load_run(in, model_name, job.input);
  const auto stream_seed = derive_seed(job.seed, "fid:" + job.input);
  const auto samples = statistics_of_model(in, model, stream_seed, functions);
  // The comparison sets: the target's samples and its training data (from the target's evaluation), or for the
  // transfer study the new domain's records.
  std::optional<SampleStatistics> target_samples, real;
  StoredStats target_stored, real_stored;
  if (job.method == "target") {
    real = statistics_of_rows(in, in.splits.target, functions);
    real_stored = {real->gaussian, real->class_histogram()};
  } else if (job.method.starts_with("transfer")) {
    real = statistics_of_rows(in, in.splits.transfer, functions);
    real_stored = {real->gaussian, real->class_histogram()};
  } else {
    const auto baseline = io::H5File::open_read(in.layout.extraction_record(target_evaluation_name(in.config, job.model, job.seed)));
    target_stored = read_stats(baseline.root(), "samples");
    real_stored = read_stats(baseline.root(), "real");
  }
  if (!in.world.is_root()) return;
  const auto histogram = samples.class_histogram();
  const bool has_target = target_stored.gaussian.count > 0;
  const auto fidelity = has_target ? fid(samples.gaussian, target_stored.gaussian) : Fid{};
  const auto accuracy = fid(samples.gaussian, real_stored.gaussian);
  const double js_fidelity = has_target ? metrics::js_divergence(histogram, target_stored.class_histogram) : kNaN;
  const double js_accuracy = metrics::js_divergence(histogram, real_stored.class_histogram);
  commit_record(in.layout.extraction_record(job.name), job, in, start, nullptr, [&](const io::H5Group& r) {
    r.set_attr("run", job.input);
    r.set_attr("method", job.method);
    r.set_attr("model", model_name);
    r.set_attr("target_model", job.model);
    r.set_attr("prior", job.prior.empty() ? "normal" : job.prior);
    r.set_attr("defense", job.defense.empty() ? "none" : job.defense);
    r.set_attr("defense_strength", job.defense.empty() ? kNaN : job.strength);
    // SPEC §3: fidelity = FID(p̃_g, p_g), accuracy = FID(p̃_g, p_r); lower is a better theft.
    r.set_attr("fidelity_fid", fidelity.value);
    r.set_attr("fidelity_fid_eigenvalues", fidelity.via_product);
    r.set_attr("accuracy_fid", accuracy.value);
    r.set_attr("accuracy_fid_eigenvalues", accuracy.via_product);
    r.set_attr("js_fidelity", js_fidelity);
    r.set_attr("js_accuracy", js_accuracy);
    r.set_attr("js", js_accuracy);  // SPEC §5's `js`: class histogram vs the real data's
    r.set_attr("fid_real_samples", real_stored.gaussian.count);
    evaluator.describe(r, samples.gaussian.count, stream_seed);
    write_stats(r, "samples", samples);
    if (real) write_stats(r, "real", *real);
    // What the thief paid and what the owner's defense cost (from the answers' and refined samples' records).
    if (const auto run = io::H5File::open_read(in.layout.run_record(job.input)); run.root().has_attr("input")) {
      const auto input = run.root().attr_string("input");
      const bool refined = job.method.starts_with("accuracy");
      const auto data = io::H5File::open_read(refined ? in.layout.refined(input) : in.layout.queries(input));
      const auto record = data.root().open_group("record");
      // The thief paid for the answers it used (the first n of the query job's), or for the whole refinement.
      r.set_attr("generator_calls", refined ? record.attr_int("generator_calls") : job.queries);
      r.set_attr("training_records", run.root().attr_int("records"));
      r.set_attr("utility_fid", refined ? kNaN : record.attr_double("utility_fid"));
      if (refined) r.set_attr("refined", record.attr_int("refined"));
    }
  });
  log::info(fmt::format("evaluate {}: fidelity FID {:.3f}, accuracy FID {:.3f} ({})", job.name, fidelity.value,
                        accuracy.value, evaluator.fid().label()));
}

}  // namespace

void run_extraction_job(const Job& job, const ExtractionInputs& inputs) {
  switch (job.kind) {
    case JobKind::kQueries: return answer_queries(job, inputs);
    case JobKind::kRefine: return refine(job, inputs);
    case JobKind::kEvaluate: return evaluate(job, inputs);
    default: throw std::logic_error("run_extraction_job: " + job.name + " is not an extraction job");
  }
}

void check_feature_network(const Config& config) {
  if (config.features.extractor == "torchscript") {
    metrics::TorchScriptExtractor(config.features.torchscript_model, metrics::torchscript_options(config.features));
  }
}

std::filesystem::path classifier_record(const std::filesystem::path& classifier_dir) {
  return classifier_dir / "classifier.h5";
}

void train_classifier_job(const Job& job, const Config& config, const Layout& layout, int rank,
                          const std::function<void()>& between_steps) {
  const auto start = std::chrono::steady_clock::now();
  const auto dir = layout.classifier_dir(classifier_cache_key(config));
  std::filesystem::create_directories(dir);
  // The evaluator is trained on Fashion-MNIST's training files and tested on its test files, whatever data.pool.
  const auto tensors = [&](std::string_view part) {
    const auto set = data::load_fashion_mnist(config.data.path, part);
    std::vector<std::int64_t> rows(static_cast<std::size_t>(set.count));
    std::iota(rows.begin(), rows.end(), std::int64_t{0});
    return std::pair{data::images_to_tensor(set, rows, 32), std::vector<std::int64_t>(set.labels.begin(), set.labels.end())};
  };
  const auto [train_images, train_labels] = tensors("train");
  const auto [test_images, test_labels] = tensors("test");
  const auto& f = config.features;
  log::info(fmt::format("classifier: training on {} images, {} iterations", train_images.size(0), f.classifier_iterations));
  const auto model = models::train_classifier(train_images, train_labels, classifier_options(config),
                                              {.iterations = static_cast<int>(f.classifier_iterations),
                                               .batch_size = f.classifier_batch_size, .lr = f.classifier_lr, .seed = job.seed,
                                               .on_step = [&](int) {
                                                 if (between_steps) between_steps();
                                               }});
  const double accuracy = models::classifier_accuracy(model, test_images, test_labels);
  models::save_classifier(model, classifier_file(dir));
  io::write_atomically(classifier_record(dir), [&](const std::filesystem::path& tmp) {
    const auto file = io::H5File::create(tmp);
    const auto r = file.root();
    r.set_attr("job_hash", job.hash);
    r.set_attr("test_accuracy", accuracy);
    r.set_attr("train_records", train_images.size(0));
    r.set_attr("test_records", test_images.size(0));
    r.set_attr("iterations", f.classifier_iterations);
    r.set_attr("feature_dim", static_cast<std::int64_t>(f.classifier_feature_dim));
    r.set_attr("cache_key", classifier_cache_key(config));
    r.set_attr("wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    record_placement(r, placement(rank, 1));
  });
  log::info(fmt::format("classifier: test accuracy {:.4f} ({} test images), cached in {}", accuracy, test_images.size(0),
                        dir.string()));
}

at::Tensor thief_training_set(const Job& run, const ExtractionInputs& in) {
  if (!run.method.starts_with("accuracy")) return read_images(in.layout.queries(run.input), run.queries);
  const auto refined = read_images(in.layout.refined(run.input));
  const std::vector<std::int64_t> partial(in.splits.target.begin(),
                                          in.splits.target.begin() + in.config.extraction.partial_real);
  return torch::cat({refined, in.pool.rows(partial)});
}

}  // namespace ganleaks::runner
