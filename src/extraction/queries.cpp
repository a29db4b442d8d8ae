// The queries job: the target answers the thief's latents, through a defense or not (docs/extraction.md).
#include "extraction/parts.h"

#include "extraction/defenses.h"
#include "core/log.h"
#include "core/seeding.h"

namespace ganleaks::extraction {
namespace {

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
      partners_ = torch::randn({config.defenses.linear_partners, z_dim}, stream(derive_seed(job.seed, "owner-partners")))
                      .to(target.device());
    } else if (job.defense == "semantic") {
      directions_ = semantic_directions(config, target, world);
    }
  }

  at::Tensor latents(const at::Tensor& z, std::int64_t chunk) const {
    if (job_.defense == "linear") {
      auto choice = stream(derive_seed(job_.seed, "partner-choice", static_cast<std::uint64_t>(chunk)));
      const auto index = torch::randint(partners_.size(0), {z.size(0)}, choice).to(z.device());
      return linear_interpolation(z, partners_.index_select(0, index), job_.strength);
    }
    if (job_.defense == "semantic") {
      auto choice = stream(derive_seed(job_.seed, "semantic-choice", static_cast<std::uint64_t>(chunk)));
      const auto which = torch::randint(directions_.size(0), {z.size(0)}, choice).to(z.device());
      return semantic_interpolation(z, directions_, which, job_.strength);
    }
    return z;
  }

  at::Tensor answers(const at::Tensor& images, std::int64_t chunk) const {
    if (job_.defense == "gaussian-noise") {
      auto noise = stream(derive_seed(job_.seed, "defense-noise", static_cast<std::uint64_t>(chunk)));
      return gaussian_noise(images, job_.strength, noise);
    }
    if (job_.defense == "gaussian-filter") return gaussian_filter(images, job_.strength);
    if (job_.defense == "jpeg") return jpeg_compression(images, static_cast<int>(job_.strength));
    if (job_.defense == "adversarial-noise") {
      return adversarial_noise(
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
    std::vector<float> normals_flat;  // (classes, z_dim), row-major
    if (world.is_root()) {
      torch::NoGradGuard no_grad;
      target.eval();
      const auto n = config.defenses.semantic_samples;
      const auto z = torch::randn({n, z_dim}, stream(derive_seed(job_.seed, "semantic-fit"))).to(target.device());
      std::vector<at::Tensor> logits;
      for (std::int64_t first = 0; first < n; first += models::kSampleChunk) {
        const auto count = std::min(models::kSampleChunk, n - first);
        logits.push_back(evaluator_.logits(target.forward(z.narrow(0, first, count))));
      }
      const auto scores = torch::cat(logits);
      std::vector<at::Tensor> normals;
      for (std::int64_t c = 0; c < scores.size(1); ++c) {
        normals.push_back(semantic_direction(z, scores.select(1, c).contiguous(), config.defenses.semantic_k));
      }
      normals_flat = values_of(torch::stack(normals));
    }
    dist::broadcast(world, normals_flat, 0);
    const auto count = static_cast<std::int64_t>(normals_flat.size());
    return torch::from_blob(normals_flat.data(), {count / z_dim, z_dim}, torch::kFloat32).to(target.device(), false, true);
  }

  const Job& job_;
  Evaluator& evaluator_;
  at::Tensor partners_, directions_;
  int steps_;  // adversarial-noise: PGD steps
};

// The thief's latents of one chunk of queries, from its prior (SPEC §3, Table 7: N(0, I) or U(-1, 1)); the
// stream is named by the prior only, so every defense answers the same queries.
at::Tensor query_latents(const Job& job, std::int64_t chunk, std::int64_t z_dim, const at::Device& device) {
  auto g = stream(derive_seed(derive_seed(job.seed, "queries:" + job.prior), "chunk", static_cast<std::uint64_t>(chunk)));
  // host: drawn by the seeded CPU stream, moved below.
  const auto z = job.prior == "uniform" ? torch::rand({models::kSampleChunk, z_dim}, g) * 2 - 1
                                        : torch::randn({models::kSampleChunk, z_dim}, g);
  return z.to(device);
}

}  // namespace

// ---- queries: the target answers ------------------------------------------------------------------------

void answer_queries(const Job& job, const ExtractionInputs& in) {
  const auto start = Clock::now();
  Evaluator evaluator(in.config, in.layout, in.device);
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
    const auto z = query_latents(job, c, g.z_dim(), in.device);
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
  commit_record(queries_file(in.layout, job.name), job, in, start, &images, [&](const io::H5Group& r) {
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
      const auto d = dist::to_host(defense.directions().to(torch::kFloat64));
      r.write_matrix("semantic_directions", std::span<const double>(d.data_ptr<double>(), d.numel()), d.size(0), d.size(1));
    }
  });
  log::info(fmt::format("queries {}: {} answers{}", job.name, job.queries,
                        defended ? fmt::format(", utility cost FID {:.3f}", utility.value) : ""));
}

}  // namespace ganleaks::extraction
