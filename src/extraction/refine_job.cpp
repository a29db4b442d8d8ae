// The refine job: accuracy extraction's calibrated MH or DRS subsampling of the target's samples (docs/extraction.md).
#include "extraction/parts.h"

#include "extraction/refine.h"
#include "core/log.h"
#include "core/seeding.h"

namespace ganleaks::extraction {
namespace {

// ---- refine: accuracy extraction's subsampling ----------------------------------------------------------

std::vector<double> realness(models::Networks& target, const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  const auto logits = dist::to_host(target.discriminator->forward(images).to(torch::kFloat64));
  return {logits.data_ptr<double>(), logits.data_ptr<double>() + logits.numel()};
}

// Every rank's values of its chunks, on every rank, in chunk order.
std::vector<double> all_values(const dist::Comm& world, const std::vector<ChunkValues>& mine) {
  return in_chunk_order(dist::all_gather_values(world, mine));
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
  // host: the chains run on the host (extraction/refine.h).
  const auto u = torch::rand({count}, stream(seed), torch::kFloat64).contiguous();
  return {u.data_ptr<double>(), u.data_ptr<double>() + count};
}

}  // namespace

void refine(const Job& job, const ExtractionInputs& in) {
  const auto start = Clock::now();
  const auto& e = in.config.extraction;
  auto target = load_run(in, job.model, target_of(in, job));
  auto& g = *target.generator;
  target.train(false);
  // Calibration (Turner et al. 2019): D's logits on the thief's real records vs as many generated samples.
  const std::vector<std::int64_t> partial(in.splits.target.begin(), in.splits.target.begin() + e.partial_real);
  const auto calibration_stream = derive_seed(job.seed, "calibration");
  const auto real_logits = sharded_logits(in.world, e.partial_real, target, [&](std::int64_t c, std::int64_t n) {
    const auto first = c * models::kSampleChunk;
    return in.pool.rows(std::span(partial).subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(n))).to(in.device);
  });
  const auto fake_logits = sharded_logits(in.world, e.partial_real, target, [&](std::int64_t c, std::int64_t n) {
    return generated(g, calibration_stream, c, n);
  });
  std::vector<double> scores = real_logits;
  scores.insert(scores.end(), fake_logits.begin(), fake_logits.end());
  std::vector<std::uint8_t> is_real(real_logits.size(), 1);
  is_real.resize(scores.size(), 0);
  const auto calibrator = e.calibration == "platt" ? Calibrator::platt(scores, is_real)
                                                   : Calibrator::isotonic(scores, is_real);
  std::int64_t calls = e.partial_real, restarts = 0, accepted_moves = 0;
  std::vector<ChunkImages> mine;  // chunk = the refined sample's position
  std::int64_t refined_count = 0;
  if (job.refiner == "mh") {
    // Independence chains of K proposals from a real start (Hu & Pang, Alg. 1); chain i on rank i mod W.
    const auto k = e.mh_chain_length;
    const auto chains = (job.queries - e.partial_real) / k;
    const auto start_probability = calibrator.probabilities(real_logits);
    std::int64_t counts[2] = {0, 0};  // restarted chains, accepted moves
    for (std::int64_t i = in.world.rank(); i < chains; i += in.world.size()) {
      const auto z = torch::randn({k, g.z_dim()}, stream(derive_seed(job.seed, "mh-proposals", static_cast<std::uint64_t>(i))))
                         .to(in.device);
      at::Tensor proposals;
      {
        torch::NoGradGuard no_grad;
        proposals = g.forward(z);
      }
      const auto probabilities = calibrator.probabilities(realness(target, proposals));
      // Fresh uniforms for a restart, as Turner et al.'s enhance_samples draws them.
      const auto index = static_cast<std::uint64_t>(i);
      const auto chain = mh_independence_chain(
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
    const auto drs = discriminator_rejection_sampling(fake_logits, logits,
                                                               uniforms(derive_seed(job.seed, "drs-uniforms"), proposals),
                                                               e.drs_gamma_quantile);
    // Every rank knows which were accepted; each regenerates its own chunks and sends those (acceptance needs
    // every logit first; regenerating is one more generator pass instead of holding every proposal until then).
    const ShardedChunks chunks(in.world, proposals, 1);
    for (std::int64_t c = 0; c < chunks.chunks(); ++c) {
      const auto first = std::ranges::lower_bound(drs.accepted, c * models::kSampleChunk);
      const auto last = std::ranges::lower_bound(drs.accepted, (c + 1) * models::kSampleChunk);
      if (!chunks.mine(c) || first == last) continue;
      const auto images = generated(g, proposal_stream, c, chunks.size_of(c));
      for (auto it = first; it != last; ++it) mine.push_back({*it, values_of(images[*it % models::kSampleChunk])});
    }
    calls += proposals;
    refined_count = static_cast<std::int64_t>(drs.accepted.size());
    accepted_moves = refined_count;
  }
  const auto images = gather_images(in.world, mine);
  if (!in.world.is_root()) return;
  commit_record(refined_file(in.layout, job.name), job, in, start, &images, [&](const io::H5Group& r) {
    r.set_attr("target", target_of(in, job));
    r.set_attr("refiner", job.refiner);
    r.set_attr("calibration", e.calibration);
    r.set_attr("generator_calls", calls);
    r.set_attr("refined", refined_count);
    r.set_attr("partial_real", e.partial_real);
    if (job.refiner == "mh") {
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

}  // namespace ganleaks::extraction
