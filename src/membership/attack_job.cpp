#include "membership/attack_job.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "attacks/diffusion.h"
#include "attacks/lpips.h"
#include "attacks/perceptual.h"
#include "attacks/membership.h"
#include "attacks/reconstruction.h"
#include "core/log.h"
#include "core/log_space.h"
#include "core/seeding.h"
#include "metrics/bootstrap.h"
#include "dist/collectives.h"
#include "dist/placement.h"
#include "membership/attack_record.h"
#include "membership/perceptual_job.h"
#include "membership/shadow.h"
#include "models/ddpm.h"
#include "models/zoo.h"

namespace ganleaks::membership {
namespace {

struct Release {  // what the attacker gets of one trained model (models/zoo.h)
  models::Networks model;
  std::uint64_t sample_stream = 0;  // seed of its k generated samples (tagged "fbb:…", shared by every setting)
  models::GeneratorBase& generator() const { return *model.generator; }
};

// One block's share of a query-sharded pass.
struct BlockResult {
  int block = 0;
  std::vector<double> loss;
  std::vector<std::int64_t> evaluations;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & block & loss & evaluations;
  }
};

// A partial result for every query, from one sample chunk (counts, kernel sums) or from one rank's chunks
// (nearest candidates); `chunk` orders the combination.
struct ChunkResult {
  std::int64_t chunk = 0;  // chunk index, or the rank for nearest candidates
  std::vector<float> d2;
  std::vector<std::int64_t> index;
  std::vector<double> values;  // mse of the candidate, a count, or a log kernel sum
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & chunk & d2 & index & values;
  }
};

using Chunks = std::vector<std::pair<std::int64_t, at::Tensor>>;  // (chunk index, (n, D) samples)

double median(std::vector<double> values) { return metrics::quantile(values, 0.5); }

class AttackRun {
 public:
  // `queries`: the rows scored (an attack's query set; a signal job's queries and RMIA population).
  AttackRun(const Job& job, const AttackInputs& in, data::QuerySet queries)
      : job_(job), in_(in), cfg_(in.config.attack), queries_(std::move(queries)) {
    total_ = static_cast<std::int64_t>(queries_.sample_index.size());
    blocks_ = static_cast<int>((total_ + cfg_.block_size - 1) / cfg_.block_size);
    queries_tensor_ = in.pool.rows(queries_.sample_index).to(in.device);  // on the device for the whole job
    flat_ = queries_tensor_.reshape({total_, -1});
    distance_ = in.pool.binary() ? attacks::Distance::kHamming : attacks::Distance::kL2;
    calibrate_ = std::ranges::find(cfg_.calibrated, true) != cfg_.calibrated.end();
    if (cfg_.lambda_lpips > 0 && (job.setting == "pbb" || job.setting == "wb")) {
      const int channels = static_cast<int>(queries_tensor_.size(1)), side = in.config.data.image_size;
      if (cfg_.perceptual == "classifier") {
        perceptual_ = std::make_unique<attacks::ClassifierPerceptual>(
            load_perceptual_classifier(in.layout, in.config, in.device), channels, side);
      } else {
        perceptual_ = std::make_unique<attacks::Lpips>(cfg_.lpips_model, channels, side, in.device);
      }
    }
  }

  // A signal job: the losses of one model (in_.victim_run, generated samples from `stream_tag`'s stream) on every
  // row, written by rank 0 to signals/<job>.h5.
  void signals(const std::string& stream_tag, std::int64_t queries) {
    const auto start = std::chrono::steady_clock::now();
    auto model = load_release(in_.victim_run, stream_tag);
    const auto losses_of_model = losses(model, "signals");
    if (!root()) return;
    write_signal_record(in_.layout.record(std::string(kSignalsFolder), job_.name), job_, in_.victim_run,
                        queries_.sample_index, queries, losses_of_model,
                        dist::placement(0, in_.world.size(), in_.device.str()),
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  void run() {
    const auto start = std::chrono::steady_clock::now();
    if (root()) {
      log::info(fmt::format("attack {}: {} queries in {} blocks over {} ranks", job_.name, total_, blocks_,
                            in_.world.size()));
    }
    auto victim = load_release(in_.victim_run, "fbb:victim");
    const auto victim_losses = losses(victim, "victim");
    Losses reference_losses;
    if (calibrate_) {
      if (job_.setting == "domias") {
        reference_losses = domias_reference_data();
      } else {
        auto reference = load_release(in_.reference_run, "fbb:reference");
        reference_losses = losses(reference, "reference");
      }
    }
    if (!root()) return;
    write_attack_record(in_.layout.record(std::string(kAttacksFolder), job_.name), job_, in_.config, queries_,
                        victim_losses, reference_losses, dist::placement(0, in_.world.size(), in_.device.str()),
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    log::info(fmt::format("attack {}: done", job_.name));
  }

 private:
  bool root() const { return in_.world.is_root(); }

  Release load_release(const std::string& run, const std::string& stream_tag) const {
    const auto shape = queries_tensor_.sizes().slice(1).vec();
    return {models::load_release(in_.config.model.only(job_.model), shape, in_.layout.run_dir(run), in_.device),
            derive_seed(job_.seed, stream_tag)};
  }

  Losses losses(Release& model, const std::string& role) {
    const auto& s = job_.setting;
    if (s == "fbb") return {attacks::euclidean_from_mse(nearest(generated(model)).values, flat_.size(1)), {}, {}};
    if (s == "mc") return monte_carlo(model);
    if (s == "domias") return domias_generated(model);
    if (s == "dis") return discriminator(model);
    if (s == "wb") return white_box(model);
    if (s == "pbb") return partial_black_box(model);
    if (s == "loss" || s == "secmi" || s == "pia") return diffusion(model);
    throw std::invalid_argument(fmt::format("attack {}: unknown setting '{}' ({})", job_.name, s, role));
  }

  // ---- Sample-sharded passes: chunk c of the k samples lives on rank c mod W --------------------------

  Chunks generated(Release& model) const {
    const std::int64_t k = cfg_.fbb_samples, n_chunks = (k + models::kSampleChunk - 1) / models::kSampleChunk;
    Chunks mine;
    for (std::int64_t c = in_.world.rank(); c < n_chunks; c += in_.world.size()) {
      const auto count = std::min(models::kSampleChunk, k - c * models::kSampleChunk);
      mine.emplace_back(c, models::generate_chunk(model.generator(), model.sample_stream, c, count));
    }
    return mine;
  }

  Chunks data_chunks(const at::Tensor& data) const {
    const auto n = data.size(0), n_chunks = (n + models::kSampleChunk - 1) / models::kSampleChunk;
    Chunks mine;
    for (std::int64_t c = in_.world.rank(); c < n_chunks; c += in_.world.size()) {
      const auto first = c * models::kSampleChunk;
      mine.emplace_back(c, data.narrow(0, first, std::min(models::kSampleChunk, n - first)));
    }
    return mine;
  }

  // Every rank's partial results, on every rank, ordered by `chunk`.
  std::vector<ChunkResult> all_chunks(const std::vector<ChunkResult>& mine) const {
    std::vector<ChunkResult> all;
    for (auto& part : dist::all_gather_values(in_.world, mine)) std::move(part.begin(), part.end(), std::back_inserter(all));
    std::ranges::sort(all, {}, &ChunkResult::chunk);
    return all;
  }

  // Nearest sample of every query (values = exact MSE), identical on every rank: each rank searches its
  // chunks, the candidates of all ranks are merged (order-independent).
  ChunkResult nearest(const Chunks& chunks) const {
    attacks::SampleChunks mine;
    for (const auto& [c, samples] : chunks) mine.emplace_back(c * models::kSampleChunk, samples);
    std::vector<ChunkResult> local;
    if (!mine.empty()) {
      auto n = attacks::nearest_in_chunks(flat_, mine, distance_);
      local.push_back({in_.world.rank(), std::move(n.d2), std::move(n.index), std::move(n.mse)});
    }
    attacks::NearestCandidates best;
    for (auto& r : all_chunks(local)) attacks::fold_nearest(best, {std::move(r.d2), std::move(r.index), std::move(r.values)});
    return {0, best.d2, best.index, best.mse};
  }

  Losses monte_carlo(Release& model) const {
    const auto chunks = generated(model);
    const double radius = median(nearest(chunks).values);  // Hilprecht et al.'s median heuristic
    std::vector<ChunkResult> mine;
    for (const auto& [c, samples] : chunks) {
      const auto counts = attacks::count_within(flat_, samples, radius);
      mine.push_back({c, {}, {}, std::vector<double>(counts.begin(), counts.end())});
    }
    std::vector<double> within(total_, 0.0);
    for (const auto& r : all_chunks(mine)) {
      for (std::int64_t i = 0; i < total_; ++i) within[i] += r.values[i];
    }
    Losses out;
    for (const double count : within) out.loss.push_back(-count / static_cast<double>(cfg_.fbb_samples));
    out.attrs["mc_radius_mse"] = radius;
    return out;
  }

  // -log of a Gaussian kernel density estimate over `chunks` (n points), bandwidth h on the MSE scale.
  std::vector<double> negative_log_density(const Chunks& chunks, std::int64_t n, double h) const {
    std::vector<ChunkResult> mine;
    for (const auto& [c, points] : chunks) mine.push_back({c, {}, {}, attacks::log_kernel_sum(flat_, points, h)});
    std::vector<double> log_sum(total_, -std::numeric_limits<double>::infinity());
    for (const auto& r : all_chunks(mine)) {
      for (std::int64_t i = 0; i < total_; ++i) log_sum[i] = log_add_exp(log_sum[i], r.values[i]);
    }
    for (auto& v : log_sum) v = -(v - std::log(static_cast<double>(n)));
    return log_sum;
  }

  // DOMIAS (van Breugel et al. 2023): log p_G(x) - log p_R(x); the generated-data half, which also fixes the
  // bandwidth both densities share (the median nearest-sample MSE of the queries).
  Losses domias_generated(Release& model) {
    const auto chunks = generated(model);
    domias_bandwidth_ = median(nearest(chunks).values);
    Losses out{negative_log_density(chunks, cfg_.fbb_samples, domias_bandwidth_), {}, {}};
    out.attrs["domias_bandwidth_mse"] = domias_bandwidth_;
    return out;
  }

  Losses domias_reference_data() const {
    const auto& rows = in_.splits.reference;
    const auto data = in_.pool.rows(rows).to(in_.device);
    const auto n = static_cast<std::int64_t>(rows.size());
    return {negative_log_density(data_chunks(data.reshape({n, -1})), n, domias_bandwidth_), {}, {}};
  }

  // ---- Query-sharded passes: block b lives on rank b mod W ------------------------------------------

  // Runs `score` on this rank's blocks, gathers on rank 0 and assembles there (other ranks: empty).
  template <class Score>
  Losses block_pass(const std::string& what, Score score) const {
    std::vector<BlockResult> mine;
    const auto start = std::chrono::steady_clock::now();
    const int my_blocks = (blocks_ - in_.world.rank() + in_.world.size() - 1) / in_.world.size();
    for (int b = in_.world.rank(); b < blocks_; b += in_.world.size()) {
      const auto first = static_cast<std::int64_t>(b) * cfg_.block_size;
      const auto count = std::min<std::int64_t>(cfg_.block_size, total_ - first);
      auto result = score(first, count);
      result.block = b;
      mine.push_back(std::move(result));
      if (root() && my_blocks > 1) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const auto done = static_cast<int>(mine.size());
        log::info(fmt::format("attack {} ({}): {} of {} blocks on rank 0, {:.0f} s, ETA {:.0f} s", job_.name, what,
                              done, my_blocks, elapsed, elapsed / done * (my_blocks - done)));
      }
    }
    const auto parts = dist::gather_values(in_.world, mine, 0);
    Losses out;
    if (!root()) return out;
    out.loss.resize(total_);
    for (const auto& part : parts) {
      for (const auto& r : part) {
        const auto first = static_cast<std::int64_t>(r.block) * cfg_.block_size;
        std::ranges::copy(r.loss, out.loss.begin() + first);
        if (!r.evaluations.empty()) {
          out.evaluations.resize(total_);
          std::ranges::copy(r.evaluations, out.evaluations.begin() + first);
        }
      }
    }
    return out;
  }

  Losses discriminator(Release& model) const {
    return block_pass("dis", [&](std::int64_t first, std::int64_t count) {
      auto logits = attacks::realness_scores(model.model, queries_tensor_.narrow(0, first, count));
      for (auto& v : logits) v = -v;  // loss = -realness: a confident "real" is a small loss
      return BlockResult{0, std::move(logits), {}};
    });
  }

  // ---- Diffusion models' settings, query-sharded ----------------------------------------------------------

  Losses diffusion(Release& model) const {
    auto& ddpm = dynamic_cast<models::DdpmImpl&>(model.generator());
    return block_pass(job_.setting, [&](std::int64_t first, std::int64_t count) {
      const auto queries = queries_tensor_.narrow(0, first, count);
      std::vector<double> loss;
      if (job_.setting == "loss") {
        loss = attacks::denoising_loss(ddpm, queries, cfg_.loss_timesteps, loss_noise(first, count));
      } else if (job_.setting == "secmi") {
        loss = attacks::secmi_error(ddpm, queries, cfg_.secmi_t, cfg_.secmi_interval);
      } else {
        loss = attacks::pia_error(ddpm, queries, cfg_.pia_t, cfg_.pia_p);
      }
      return BlockResult{0, std::move(loss), {}};
    });
  }

  // The `loss` setting's noise, (count, timesteps × draws, C, H, W): each query's from its own stream, seeded by its
  // dataset index, so that a query meets the same noise under every model (victim, reference, shadows), in any block.
  at::Tensor loss_noise(std::int64_t first, std::int64_t count) const {
    const auto per_query = static_cast<std::int64_t>(cfg_.loss_timesteps.size()) * cfg_.loss_draws;
    auto shape = queries_tensor_.sizes().vec();
    shape[0] = per_query;
    // host: drawn by per-query CPU streams, moved by the attack.
    std::vector<at::Tensor> rows;
    for (std::int64_t i = 0; i < count; ++i) {
      const auto sample = static_cast<std::uint64_t>(queries_.sample_index[first + i]);
      auto stream = at::make_generator<at::CPUGeneratorImpl>(derive_seed(job_.seed, "loss-noise", sample));
      rows.push_back(torch::randn(shape, stream));
    }
    return torch::stack(rows);
  }

  // A seeded start latent per (query, restart), from the query's dataset index: independent of blocks and ranks.
  at::Tensor seeded_latents(std::string_view tag, std::int64_t first, std::int64_t count, int restart) const {
    const auto z_dim = in_.config.model.z_dim;
    // host: drawn by per-query CPU streams, moved once below.
    auto out = torch::empty({count, z_dim});
    for (std::int64_t i = 0; i < count; ++i) {
      const auto sample = static_cast<std::uint64_t>(queries_.sample_index[first + i]);
      auto stream = at::make_generator<at::CPUGeneratorImpl>(derive_seed(derive_seed(job_.seed, tag, sample), "restart", restart));
      out[i].copy_(torch::randn({z_dim}, stream));
    }
    return out.to(in_.device);
  }

  attacks::ReconstructionLoss reconstruction_loss() const {
    return {.lambda_reg = search_lambda_reg(in_.config, job_.model), .perceptual = perceptual_.get(), .lambda_lpips = cfg_.lambda_lpips};
  }

  // A search's first start for queries [first, first + count): `init` is "nn" (the latent of each query's
  // nearest generated sample, nearest_index), "zero" or "random" (seeded_latents under `tag`).
  at::Tensor start_latents(const std::string& init, const Release& model, const std::vector<std::int64_t>& nearest_index,
                           std::string_view tag, std::int64_t first, std::int64_t count) const {
    if (init == "nn") {
      const std::vector<std::int64_t> rows(nearest_index.begin() + first, nearest_index.begin() + first + count);
      return models::sample_latents(model.sample_stream, rows, in_.config.model.z_dim).to(in_.device);
    }
    if (init == "zero") return torch::zeros({count, in_.config.model.z_dim}, torch::TensorOptions().device(in_.device));
    return seeded_latents(tag, first, count, 0);
  }

  // Progress of the search in one block, logged on rank 0 at most every 10 s: long pbb/wb blocks run minutes.
  attacks::SearchProgress search_progress(const std::string& what, std::int64_t first, std::int64_t count) const {
    if (!root()) return {};
    auto start = std::chrono::steady_clock::now();
    auto last = start;
    return [=, this](double fraction) mutable {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(10) || fraction <= 0) return;
      last = now;
      const double elapsed = std::chrono::duration<double>(now - start).count();
      log::info(fmt::format("attack {} ({}): queries {}-{} of {}: {:.0f} % of the search budget, {:.0f} s, ETA {:.0f} s",
                            job_.name, what, first, first + count - 1, total_, 100 * fraction, elapsed,
                            elapsed / fraction * (1 - fraction)));
    };
  }

  Losses white_box(Release& model) const {
    attacks::LbfgsOptions options{.max_evaluations = cfg_.wb_max_evaluations, .history = cfg_.wb_history};
    const auto nearest_index = cfg_.wb_init == "nn" ? nearest(generated(model)).index : std::vector<std::int64_t>{};
    return block_pass("wb", [&](std::int64_t first, std::int64_t count) {
      std::vector<at::Tensor> starts{start_latents(cfg_.wb_init, model, nearest_index, "wb-start", first, count)};
      for (int r = 1; r < cfg_.wb_restarts; ++r) starts.push_back(seeded_latents("wb-start", first, count, r));
      options.progress = search_progress("wb", first, count);
      auto rec = attacks::reconstruct_white_box(model.generator(), flat_.narrow(0, first, count), starts,
                                                reconstruction_loss(), options);
      return BlockResult{0, std::move(rec.loss), std::move(rec.evaluations)};
    });
  }

  Losses partial_black_box(Release& model) const {
    attacks::PowellOptions options{.max_iterations = cfg_.pbb_iterations,
                                   .line_search = cfg_.pbb_line_search == "brent" ? attacks::LineSearch::kBrent
                                                                                  : attacks::LineSearch::kGolden,
                                   .line_evaluations = cfg_.pbb_line_evaluations,
                                   .bracket = cfg_.pbb_bracket};
    const auto nearest_index = cfg_.pbb_init == "nn" ? nearest(generated(model)).index : std::vector<std::int64_t>{};
    return block_pass("pbb", [&](std::int64_t first, std::int64_t count) {
      const auto start = start_latents(cfg_.pbb_init, model, nearest_index, "pbb-start", first, count);
      options.progress = search_progress("pbb", first, count);
      auto rec = attacks::reconstruct_partial_black_box(model.generator(), flat_.narrow(0, first, count), start,
                                                        reconstruction_loss(), options);
      return BlockResult{0, std::move(rec.loss), std::move(rec.evaluations)};
    });
  }

  const Job& job_;
  const AttackInputs& in_;
  const AttackConfig& cfg_;
  data::QuerySet queries_;
  std::int64_t total_ = 0;
  int blocks_ = 0;
  at::Tensor queries_tensor_, flat_;  // all queries, as the model takes them ((Q, 1, S, S) or (Q, F)) and (Q, D)
  attacks::Distance distance_ = attacks::Distance::kL2;  // Hamming for binary records
  bool calibrate_ = false;
  double domias_bandwidth_ = 0;
  std::unique_ptr<attacks::PerceptualDistance> perceptual_;  // pbb/wb with lambda_lpips > 0
};

}  // namespace

void run_attack_job(const Job& job, const AttackInputs& inputs) {
  const auto m = query_count(inputs.config, job.train_size);
  AttackRun(job, inputs, data::make_query_set(inputs.splits, job.train_size, m, job.seed)).run();
}

void run_signal_job(const Job& job, const AttackInputs& inputs, bool victim) {
  // The victim's generated samples are the attack job's ("fbb:victim"); a shadow's, a stream of its own.
  run_signal_job(job, inputs, signal_rows(inputs.config, inputs.splits, job.train_size, job.seed),
                 2 * query_count(inputs.config, job.train_size),
                 victim ? std::string("fbb:victim") : "fbb:" + inputs.victim_run);
}

void run_signal_job(const Job& job, const AttackInputs& inputs, std::vector<std::int64_t> rows, std::int64_t queries,
                    const std::string& stream_tag) {
  std::vector<std::uint8_t> unused(rows.size(), 0);
  AttackRun(job, inputs, {std::move(rows), std::move(unused)}).signals(stream_tag, queries);
}

}  // namespace ganleaks::membership
