#include "train/trainer.h"

#include <torch/nn/functional/loss.h>

#include <fmt/format.h>

#include <limits>

#include <ATen/autocast_mode.h>

#include "core/interrupt.h"
#include "dist/device.h"
#include "core/log.h"
#include "models/batch_norm.h"
#include "models/ddpm.h"
#include "train/losses.h"
#include "train/run_state.h"

namespace ganleaks::train {
namespace F = torch::nn::functional;

namespace {

const auto kSum = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum);
constexpr double kPgganDrift = 0.001;  // Karras et al. 2018, Sec. A.1: keeps the critic's output near 0

// What one iteration leaves for the record. Losses are sums over this rank's rows divided by the global
// batch, so the group's gradients (and these numbers) add up to the mean.
struct IterationLosses {
  double loss_d = std::numeric_limits<double>::quiet_NaN();
  double loss_g = 0;
  double clipped_rows = 0;   // DP: rows of this rank whose gradient norm exceeded C
  double rows = 0;           // DP: rows of this rank
};

// bfloat16 autocast on CUDA for the scope of one iteration (RunSpec::bf16), as torch.autocast does.
class Autocast {
 public:
  explicit Autocast(const RunSpec& spec) : on_(spec.bf16 && spec.device.is_cuda()) {
    if (!on_) return;
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
  }
  ~Autocast() {
    if (!on_) return;
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    at::autocast::clear_cache();
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool on_;
};

// One run's loop: the objective's steps over the shared sampler, group and noise.
class Loop {
 public:
  Loop(const RunSpec& spec, const at::Tensor& records, TrainState& s, BatchSampler& sampler,
       std::optional<DpState>& dp, RunResult& result)
      : spec_(spec), records_(records), s_(s), sampler_(sampler), dp_(dp), result_(result), group_(spec.group) {}

  IterationLosses iteration(std::int64_t it) {
    const Autocast autocast(spec_);
    const double progress = static_cast<double>(it - pretraining()) / static_cast<double>(spec_.train.iterations);
    s_.g().set_progress(progress);
    if (s_.nets.discriminator) s_.d().set_progress(progress);
    switch (s_.nets.info->objective) {
      case models::Objective::kVae: return vae();
      case models::Objective::kVaeganGanLeaks: return vaegan_ganleaks();
      case models::Objective::kVaeganLarsen: return vaegan_larsen();
      case models::Objective::kDenoising: return denoising();
      case models::Objective::kMedgan:
        if (it < pretraining()) return autoencoder();
        [[fallthrough]];
      default: return gan();
    }
  }

  std::int64_t pretraining() const { return pretraining_iterations(spec_); }

  const Group& group() const { return group_; }

 private:
  int z_dim() const { return s_.g().z_dim(); }

  // This rank's rows of the next global batch, and the batch size.
  std::pair<at::Tensor, double> real_batch() {
    const auto rows = sampler_.next();
    return {records_.index_select(0, group_.shard_rows(rows, device())), static_cast<double>(rows.size())};
  }
  at::Tensor latents(std::int64_t global_rows) {
    return group_.shard(torch::randn({global_rows, z_dim()}, s_.noise)).to(device());
  }
  const at::Device& device() const { return spec_.device; }

  void step(std::string_view optimizer, torch::nn::Module& module) {
    group_.sum_gradients(module);
    s_.optimizer(optimizer).step();
  }

  // ---- GAN objectives (dcgan, wgan-gp, pggan, sngan, and medgan after pretraining) --------------------

  IterationLosses gan() {
    const auto objective = s_.nets.info->objective;
    IterationLosses out;
    at::Tensor fake;
    double divisor = 1;
    for (int k = 0; k < spec_.train.critic_steps; ++k) {
      if (dp_) {
        const auto d = dp_discriminator_step();
        fake = d.fake, divisor = d.divisor;
        out.loss_d = d.loss, out.clipped_rows = d.clipped_rows, out.rows = d.rows;
        result_.dp_batch_size.push_back(static_cast<float>(d.sampled));
      } else {
        const auto [real, batch] = real_batch();
        divisor = batch;
        fake = s_.g().forward(latents(static_cast<std::int64_t>(batch)));
        s_.optimizer("opt_d").zero_grad();
        const auto logits_real = s_.d().forward(real);
        const auto logits_fake = s_.d().forward(fake.detach());
        at::Tensor loss;
        if (objective == models::Objective::kWassersteinGp) {
          const auto epsilon = group_.shard(torch::rand({static_cast<std::int64_t>(batch)}, s_.noise)).to(device());
          const auto penalty = gradient_penalty([&](const at::Tensor& x) { return s_.d().forward(x); }, real,
                                                fake.detach(), epsilon);
          loss = logits_fake.sum() - logits_real.sum() + spec_.train.gp_lambda * penalty.sum();
          if (spec_.model.name() == "pggan") loss = loss + kPgganDrift * logits_real.square().sum();
        } else if (objective == models::Objective::kHinge) {
          loss = torch::relu(1 - logits_real).sum() + torch::relu(1 + logits_fake).sum();
        } else {
          loss = F::binary_cross_entropy_with_logits(logits_real, torch::ones_like(logits_real), kSum) +
                 F::binary_cross_entropy_with_logits(logits_fake, torch::zeros_like(logits_fake), kSum);
        }
        loss = loss / divisor;
        loss.backward();
        step("opt_d", s_.d());
        out.loss_d = dist::host_double(loss);
      }
    }
    // Generator: make D call its samples real (WGAN-GP and hinge: raise the critic's score of them).
    s_.optimizer("opt_g").zero_grad();
    const auto logits = s_.d().forward(fake);
    const auto loss_g = (objective == models::Objective::kNonSaturating || objective == models::Objective::kMedgan
                             ? F::binary_cross_entropy_with_logits(logits, torch::ones_like(logits), kSum)
                             : -logits.sum()) /
                        divisor;
    loss_g.backward();
    step("opt_g", s_.g());
    out.loss_g = dist::host_double(loss_g);
    return out;
  }

  struct DpStep {
    at::Tensor fake;
    double loss = 0, divisor = 1, clipped_rows = 0, rows = 0;
    std::int64_t sampled = 0;
  };

  // DP-SGD (SPEC §2): Poisson-sampled real rows and round(qN) generated rows in one forward, every row's
  // gradient clipped, noise once per step (the group's rank 0 adds it before the sum), divided by qN.
  DpStep dp_discriminator_step() {
    auto& dp = *dp_;
    const auto rows = dp.sampler.next();
    DpStep step{.divisor = dp.expected_batch, .sampled = static_cast<std::int64_t>(rows.size())};
    const auto real = records_.index_select(0, group_.shard_rows(rows, device()));
    step.fake = s_.g().forward(latents(dp.fake_rows));
    const auto input = torch::cat({real, step.fake.detach()});
    const auto on_device = torch::TensorOptions().device(device());
    const auto target = torch::cat({torch::ones({real.size(0)}, on_device), torch::zeros({step.fake.size(0)}, on_device)});
    for (auto* layer : dp.layers) layer->set_capture(true, dp.options.clipping);
    const auto row_loss = F::binary_cross_entropy_with_logits(
        s_.d().forward(input), target, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
    s_.optimizer("opt_d").zero_grad();
    row_loss.sum().backward();
    for (auto* layer : dp.layers) layer->set_capture(false);
    const auto stats = privacy::dp_sgd_gradients(
        dp.layers, {dp.options.max_grad_norm, dp.options.noise_multiplier, dp.expected_batch}, dp.noise,
        /*adds_noise=*/group_.rank == 0, [&](std::vector<at::Tensor>& sums) { group_.sum(sums); });
    s_.optimizer("opt_d").step();
    step.loss = dist::host_double(row_loss.detach().sum()) / step.divisor;
    step.clipped_rows = stats.clipped_fraction * static_cast<double>(stats.samples);
    step.rows = static_cast<double>(stats.samples);
    return step;
  }

  // ---- VAE and the VAEGANs -------------------------------------------------------------------------------

  // z ~ q(z|x) by the reparameterisation trick, ε drawn for the global batch like the latents.
  at::Tensor posterior_sample(const models::Posterior& q, std::int64_t global_rows) {
    return q.mean + (0.5 * q.log_var).exp() * latents(global_rows);
  }

  // Negative ELBO (docs/models.md): ½‖x − Dec(z)‖² + KL(q(z|x) ‖ N(0, I)), z ~ q(z|x).
  IterationLosses vae() {
    const auto [real, batch] = real_batch();
    s_.optimizer("opt_g").zero_grad();
    const auto q = s_.nets.encoder->forward(real);
    const auto loss = models::vae_sample_loss(real, s_.g().forward(posterior_sample(q, static_cast<std::int64_t>(batch))), q)
                          .sum() / batch;
    loss.backward();
    group_.sum_gradients(*s_.nets.encoder);
    step("opt_g", s_.g());
    return {.loss_g = dist::host_double(loss)};
  }

  // GAN-Leaks' VAEGAN (the authors' gan_models/vaegan/train.py), one iteration on four batches as there:
  // 1. the latent discriminator Dl learns prior draws N(0, I) as real, encoded records E(x) as fake (BCE);
  // 2. twice, the image discriminator D learns x as real and G(z ~ N(0, I)) as fake with margin-½ hinge losses
  //    relu(½ − D(x)) + relu(½ + D(G(z))) (the reference's D(x) is our −D(x): it scores real images low);
  // 3. encoder and decoder minimise −D(x̃) + BCE(Dl(E(x)), real) + kL1 Σ|x − x̃|, x̃ = G(E(x)): the adversarial
  //    term is taken on reconstructions only, and Dl stands in for the KL.
  IterationLosses vaegan_ganleaks() {
    constexpr int kImageDiscriminatorSteps = 2;
    constexpr double kL1 = 0.005;  // criterionG's weight of the summed L1 reconstruction
    constexpr double kMargin = 0.5;
    auto& dl = *s_.nets.latent_discriminator;
    IterationLosses out;
    {
      const auto [real, batch] = real_batch();
      const auto rows = static_cast<std::int64_t>(batch);
      s_.optimizer("opt_dl").zero_grad();
      const auto encoded = posterior_sample(s_.nets.encoder->forward(real), rows).detach();
      const auto logits_encoded = dl.forward(encoded), logits_prior = dl.forward(latents(rows));
      const auto loss =
          (F::binary_cross_entropy_with_logits(logits_prior, torch::ones_like(logits_prior), kSum) +
           F::binary_cross_entropy_with_logits(logits_encoded, torch::zeros_like(logits_encoded), kSum)) /
          batch;
      loss.backward();
      step("opt_dl", dl);
    }
    for (int k = 0; k < kImageDiscriminatorSteps; ++k) {
      const auto [real, batch] = real_batch();
      s_.optimizer("opt_d").zero_grad();
      const auto fake = s_.g().forward(latents(static_cast<std::int64_t>(batch))).detach();
      const auto loss = (torch::relu(kMargin - s_.d().forward(real)).sum() +
                         torch::relu(kMargin + s_.d().forward(fake)).sum()) /
                        batch;
      loss.backward();
      step("opt_d", s_.d());
      out.loss_d = dist::host_double(loss);
    }
    const auto [real, batch] = real_batch();
    s_.optimizer("opt_e").zero_grad();
    s_.optimizer("opt_g").zero_grad();
    const auto encoded = posterior_sample(s_.nets.encoder->forward(real), static_cast<std::int64_t>(batch));
    const auto reconstruction = s_.g().forward(encoded);
    const auto logits_latent = dl.forward(encoded);
    const auto loss = (-s_.d().forward(reconstruction).sum() +
                       F::binary_cross_entropy_with_logits(logits_latent, torch::ones_like(logits_latent), kSum) +
                       kL1 * models::l1_reconstruction(real, reconstruction).sum()) /
                      batch;
    loss.backward();
    step("opt_e", *s_.nets.encoder);
    step("opt_g", s_.g());
    out.loss_g = dist::host_double(loss);
    return out;
  }

  // Larsen et al. 2016, Alg. 1: x̃ = Dec(z ~ q(z|x)), x_p = Dec(z ~ N(0, I)); D learns x real, x̃ and x_p fake;
  // the encoder minimises KL + L_llike, the decoder γ L_llike + the GAN loss of x̃ and x_p, where L_llike is
  // ½‖Dis_l(x) − Dis_l(x̃)‖² in the discriminator's feature space (per sample, mean over features).
  IterationLosses vaegan_larsen() {
    const auto [real, batch] = real_batch();
    const auto rows = static_cast<std::int64_t>(batch);
    const auto q = s_.nets.encoder->forward(real);
    const auto reconstruction = s_.g().forward(posterior_sample(q, rows));
    const auto prior_sample = s_.g().forward(latents(rows));
    auto& vaegan_d = dynamic_cast<models::VaeganDiscriminatorImpl&>(s_.d());

    s_.optimizer("opt_d").zero_grad();
    const auto fake = torch::cat({reconstruction.detach(), prior_sample.detach()});
    const auto logits_real = s_.d().forward(real), logits_fake = s_.d().forward(fake);
    const auto loss_d = (F::binary_cross_entropy_with_logits(logits_real, torch::ones_like(logits_real), kSum) +
                         F::binary_cross_entropy_with_logits(logits_fake, torch::zeros_like(logits_fake), kSum)) /
                        batch;
    loss_d.backward();
    step("opt_d", s_.d());

    // Encoder and decoder losses share the graph; each module takes the gradient of its own loss.
    const auto llike =
        0.5 * (vaegan_d.features(real) - vaegan_d.features(reconstruction)).square().mean(1).sum() / batch;
    const auto kl = models::gaussian_kl(q).sum() / batch;
    const auto logits_gen = s_.d().forward(torch::cat({reconstruction, prior_sample}));
    const auto gan = F::binary_cross_entropy_with_logits(logits_gen, torch::ones_like(logits_gen), kSum) / batch;
    const auto loss_encoder = kl + llike, loss_decoder = spec_.train.vaegan_gamma * llike + gan;
    const auto encoder_params = s_.nets.encoder->parameters(), decoder_params = s_.g().parameters();
    const auto encoder_grads = torch::autograd::grad({loss_encoder}, encoder_params, {}, /*retain_graph=*/true);
    const auto decoder_grads = torch::autograd::grad({loss_decoder}, decoder_params, {}, /*retain_graph=*/false,
                                                     /*create_graph=*/false, /*allow_unused=*/true);
    for (std::size_t i = 0; i < encoder_params.size(); ++i) encoder_params[i].mutable_grad() = encoder_grads[i];
    for (std::size_t i = 0; i < decoder_params.size(); ++i) {
      decoder_params[i].mutable_grad() =
          decoder_grads[i].defined() ? decoder_grads[i] : torch::zeros_like(decoder_params[i]);
    }
    step("opt_e", *s_.nets.encoder);
    step("opt_g", s_.g());
    return {.loss_d = dist::host_double(loss_d), .loss_g = dist::host_double(loss_encoder + loss_decoder)};
  }

  // ---- DDPM (Ho et al. 2020, Alg. 1) ---------------------------------------------------------------------

  // ‖ε − ε_θ(√ᾱ_t x + √(1 − ᾱ_t) ε, t)‖² per row (mean over its values), t uniform on 0 .. T − 1 and ε drawn for
  // the global batch like the latents; then the average of the weights (the release) follows the step.
  IterationLosses denoising() {
    auto& ddpm = dynamic_cast<models::DdpmImpl&>(s_.g());
    const auto [real, batch] = real_batch();
    const auto rows = static_cast<std::int64_t>(batch);
    const auto t = group_.shard(torch::randint(ddpm.options().steps, {rows}, s_.noise, torch::kLong)).to(device());
    const auto eps = latents(rows).view(real.sizes());
    const auto alpha_bar = ddpm.alpha_bars(t.device()).index_select(0, t).view({-1, 1, 1, 1});
    const auto noised = alpha_bar.sqrt() * real + (1 - alpha_bar).sqrt() * eps;
    s_.optimizer("opt_g").zero_grad();
    const auto loss = (s_.nets.denoiser->forward(noised, t) - eps).square().flatten(1).mean(1).sum() / batch;
    loss.backward();
    step("opt_g", *s_.nets.denoiser);
    ddpm.update_average(*s_.nets.denoiser, spec_.model.ema_decay);
    return {.loss_g = dist::host_double(loss)};
  }

  // ---- MEDGAN's pretraining: the autoencoder learns to reconstruct the binary records (BCE) ------------

  IterationLosses autoencoder() {
    const auto [real, batch] = real_batch();
    s_.optimizer("opt_ae").zero_grad();
    const auto loss =
        F::binary_cross_entropy(s_.nets.autoencoder->forward(real), real, F::BinaryCrossEntropyFuncOptions().reduction(torch::kSum)) /
        batch;
    loss.backward();
    step("opt_ae", *s_.nets.autoencoder);
    return {.loss_g = dist::host_double(loss)};
  }

  const RunSpec& spec_;
  const at::Tensor& records_;
  TrainState& s_;
  BatchSampler& sampler_;
  std::optional<DpState>& dp_;
  RunResult& result_;
  Group group_;
};

}  // namespace

std::int64_t pretraining_iterations(const RunSpec& spec) {
  return models::model_info(spec.model.name()).objective == models::Objective::kMedgan ? spec.train.pretrain_iterations : 0;
}

RunResult train_model(const RunSpec& spec, const at::Tensor& records, const std::function<void(std::int64_t)>& on_step) {
  TORCH_CHECK(records.dim() >= 2 && records.size(0) > 0, "train_model: expected (N, C, 32, 32) images or (N, features) records, got ",
              records.sizes());
  std::filesystem::create_directories(spec.run_dir);
  const auto shape = records.sizes().slice(1).vec();
  const auto data = records.to(spec.device);  // once per run

  // The state a run starts from: seeded weights, batch order and DP state (again when a checkpoint fails to load).
  std::optional<TrainState> state;
  std::optional<BatchSampler> batches;
  std::optional<DpState> dp;
  const auto start_fresh = [&] {
    torch::manual_seed(derive_seed(spec.seed, "train-init"));  // weight initialisation
    dp.reset();
    state.emplace(spec, shape);
    batches.emplace(records.size(0), spec.train.batch_size, derive_seed(spec.seed, "train-batches"));
    if (spec.dp) dp.emplace(*spec.dp, records.size(0), spec.seed, state->d());
  };
  start_fresh();
  TORCH_CHECK(!spec.dp || state->nets.info->dp_sgd, "train_model: DP-SGD is not available for ", spec.model.name(),
              " (its discriminator is not made of per-sample layers)");

  RunResult result;
  const auto checkpoint = spec.run_dir / "checkpoint.pt";
  const bool writes_checkpoints = !spec.group || spec.group->rank() == 0;
  std::int64_t start = 0;
  if (std::filesystem::exists(checkpoint)) {
    // A checkpoint is trusted only for the settings it was written with, and only when it reads back whole;
    // otherwise the run starts over (nothing committed is lost: a checkpoint is only progress).
    auto problem = checkpoint_problem(checkpoint, spec.settings);
    if (problem.empty()) {
      try {
        start = load_checkpoint(checkpoint, *state, *batches, dp, result);
      } catch (const std::exception& e) {
        const std::string what = e.what();
        problem = "cannot be read (" + what.substr(0, what.find('\n')) + ")";
        start_fresh();
        result = {};
        start = 0;
      }
    }
    if (!problem.empty()) {
      log::warn(fmt::format("train: {} {}; starting this run over", checkpoint.string(), problem));
      if (writes_checkpoints) std::filesystem::remove(checkpoint);
    }
    result.resumed_from = start;
  }
  if (start == 0 && !spec.init_from.empty()) models::load_weights(state->nets, spec.init_from);
  auto& s = *state;
  auto& sampler = *batches;

  Loop loop(spec, data, s, sampler, dp, result);
  const auto& group = loop.group();
  if (group.ranks > 1) {
    const auto sum = [&](const at::Tensor& x) { return spec.group->all_reduce_sum_differentiable(x); };
    models::synchronise_batch_norm(s.g(), sum);
    if (s.nets.encoder) models::synchronise_batch_norm(*s.nets.encoder, sum);
  }
  s.nets.train(true);
  const auto total = loop.pretraining() + spec.train.iterations;
  for (std::int64_t it = start; it < total; ++it) {
    const auto losses = loop.iteration(it);
    // The group's losses and its vote on stopping travel in one all-reduce per iteration.
    const double stop_vote = spec.interrupt && spec.interrupt() ? 1.0 : 0.0;
    // host: the losses and the stop vote travel over MPI.
    std::vector<at::Tensor> record{
        torch::tensor({losses.loss_d, losses.loss_g, losses.clipped_rows, losses.rows, stop_vote}, torch::kFloat64)};
    group.sum(record);
    const auto* r = record[0].data_ptr<double>();
    result.loss_d.push_back(static_cast<float>(r[0]));
    result.loss_g.push_back(static_cast<float>(r[1]));
    if (dp) result.dp_clipped_fraction.push_back(r[3] > 0 ? static_cast<float>(r[2] / r[3]) : 0.0f);
    const bool stop = r[4] > 0 && it + 1 < total;
    if (group.rank == 0 && ((it + 1) % spec.train.checkpoint_every == 0 || stop) && it + 1 < total) {
      save_checkpoint(checkpoint, spec.settings, s, sampler, dp, it + 1, result);
    }
    if (on_step) on_step(it + 1);
    if (stop) throw Interrupted("training");
  }
  result.iterations = total;
  s.g().set_progress(1.0);
  if (s.nets.discriminator) s.d().set_progress(1.0);
  s.nets.train(false);
  if (group.rank == 0) models::save_release(s.nets, spec.run_dir);  // one copy, from the group's rank 0
  result.networks = std::move(s.nets);
  return result;
}

}  // namespace ganleaks::train
