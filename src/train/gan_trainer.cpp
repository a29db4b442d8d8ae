#include "train/gan_trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <fmt/format.h>

#include <sstream>

#include "core/seeding.h"
#include "io/atomic_file.h"
#include "dist/tensor_comm.h"
#include "models/batch_norm.h"
#include "models/dcgan.h"
#include "privacy/dp_sgd.h"
#include "train/losses.h"

namespace ganleaks::train {
namespace F = torch::nn::functional;

namespace {

// Batch order: a fresh seeded permutation of the training set per epoch. Kept outside torch so that
// it is platform-independent and its state checkpoints as text.
class BatchSampler {
 public:
  BatchSampler(std::int64_t n, std::int64_t batch, std::uint64_t seed)
      : n_(n), batch_(std::min(n, batch)), rng_(seed) {}

  std::vector<std::int64_t> next() {
    std::vector<std::int64_t> out;
    out.reserve(batch_);
    while (static_cast<std::int64_t>(out.size()) < batch_) {
      if (cursor_ == order_.size()) refill();
      out.push_back(order_[cursor_++]);
    }
    return out;
  }

  std::string state() const {
    std::ostringstream s;
    s << rng_.engine() << ' ' << cursor_ << ' ' << order_.size();
    for (auto i : order_) s << ' ' << i;
    return s.str();
  }
  void restore(const std::string& text) {
    std::istringstream s(text);
    std::size_t size = 0;
    s >> rng_.engine() >> cursor_ >> size;
    order_.resize(size);
    for (auto& i : order_) s >> i;
    TORCH_CHECK(!s.fail(), "checkpoint: corrupt batch-sampler state");
  }

 private:
  void refill() {
    order_.resize(n_);
    for (std::int64_t i = 0; i < n_; ++i) order_[i] = i;
    rng_.shuffle(std::span<std::int64_t>(order_));
    cursor_ = 0;
  }
  std::int64_t n_, batch_;
  Rng rng_;
  std::vector<std::int64_t> order_;
  std::size_t cursor_ = 0;
};

// This rank's place in a data-parallel group (a group of one without GanRunSpec::group). Every rank draws
// the same global batch and latents and works on its shard of them (positions rank, rank + W, ...);
// gradients are summed over the group, so every rank takes the same step.
struct Group {
  dist::TensorComm* comm = nullptr;
  int rank = 0, ranks = 1;

  explicit Group(dist::TensorComm* c) : comm(c), rank(c ? c->rank() : 0), ranks(c ? c->size() : 1) {}

  void sum(std::vector<at::Tensor>& tensors) const {
    if (comm) comm->all_reduce(tensors);
  }
  void sum_gradients(torch::nn::Module& module) const {
    std::vector<at::Tensor> grads;
    for (auto& p : module.parameters()) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.grad());
    }
    sum(grads);
  }
  torch::Tensor shard_rows(const std::vector<std::int64_t>& rows) const {
    std::vector<std::int64_t> mine;
    for (std::size_t i = static_cast<std::size_t>(rank); i < rows.size(); i += static_cast<std::size_t>(ranks)) {
      mine.push_back(rows[i]);
    }
    return torch::tensor(mine, torch::kLong);
  }
  torch::Tensor shard(const torch::Tensor& batch) const {
    return ranks == 1 ? batch : batch.slice(0, rank, batch.size(0), ranks);
  }
};

struct GanState {
  models::DcganGenerator generator;
  models::DcganDiscriminator discriminator;
  torch::optim::Adam opt_g, opt_d;
  at::Generator noise;  // latent draws

  GanState(const GanRunSpec& spec, const models::DcganOptions& options)
      : generator(options),
        discriminator(options),
        opt_g(generator->parameters(),
              torch::optim::AdamOptions(spec.train.lr_g).betas({spec.train.beta1, spec.train.beta2})),
        opt_d(discriminator->parameters(),
              torch::optim::AdamOptions(spec.train.lr_d).betas({spec.train.beta1, spec.train.beta2})),
        noise(at::make_generator<at::CPUGeneratorImpl>(derive_seed(spec.seed, "train-noise"))) {}
};

torch::Tensor text_tensor(const std::string& text) {
  return torch::from_blob(const_cast<char*>(text.data()), {static_cast<long>(text.size())}, torch::kUInt8).clone();
}
std::string tensor_text(const torch::Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.data_ptr<std::uint8_t>()), t.numel());
}

// The DP-SGD side of a run: Poisson sampler, noise source and the discriminator's per-sample layers.
struct DpState {
  DpTraining options;
  privacy::PoissonSampler sampler;
  privacy::NoiseSource noise;
  std::vector<privacy::PerSampleLayer*> layers;
  double expected_batch;     // qN
  std::int64_t fake_rows;    // round(qN), at least 1

  DpState(const DpTraining& o, std::int64_t records, std::uint64_t seed, models::DcganDiscriminator& d)
      : options(o),
        sampler(records, o.sample_rate, derive_seed(seed, "dp-sampling")),
        noise(o.secure_noise ? privacy::NoiseSource::secure()
                             : privacy::NoiseSource::seeded(derive_seed(seed, "dp-noise"))),
        layers(privacy::per_sample_layers(*d)),
        expected_batch(o.sample_rate * static_cast<double>(records)),
        fake_rows(std::max<std::int64_t>(1, std::llround(expected_batch))) {
    privacy::check_dp_compatible(*d, "DP-SGD discriminator");
  }
};

void save_checkpoint(const std::filesystem::path& file, GanState& s, const BatchSampler& sampler,
                     std::optional<DpState>& dp, std::int64_t iteration, const GanRunResult& result) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive g, d, og, od;
  s.generator->save(g);
  s.discriminator->save(d);
  s.opt_g.save(og);
  s.opt_d.save(od);
  archive.write("generator", g);
  archive.write("discriminator", d);
  archive.write("opt_g", og);
  archive.write("opt_d", od);
  archive.write("iteration", torch::tensor(iteration));
  archive.write("noise_state", s.noise.get_state());
  archive.write("sampler_state", text_tensor(sampler.state()));
  archive.write("loss_d", torch::tensor(result.loss_d));
  archive.write("loss_g", torch::tensor(result.loss_g));
  if (dp) {
    archive.write("dp_sampler_state", text_tensor(dp->sampler.state()));
    if (!dp->noise.secure_source()) archive.write("dp_noise_state", dp->noise.generator().get_state());
    archive.write("dp_batch_size", torch::tensor(result.dp_batch_size));
    archive.write("dp_clipped_fraction", torch::tensor(result.dp_clipped_fraction));
  }
  io::write_atomically(file, [&](const std::filesystem::path& tmp) { archive.save_to(tmp.string()); });
}

std::vector<float> float_vector(const torch::Tensor& t) {
  return {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()};
}

std::int64_t load_checkpoint(const std::filesystem::path& file, GanState& s, BatchSampler& sampler,
                             std::optional<DpState>& dp, GanRunResult& result) {
  torch::serialize::InputArchive archive;
  archive.load_from(file.string());
  torch::serialize::InputArchive g, d, og, od;
  archive.read("generator", g);
  archive.read("discriminator", d);
  archive.read("opt_g", og);
  archive.read("opt_d", od);
  s.generator->load(g);
  s.discriminator->load(d);
  s.opt_g.load(og);
  s.opt_d.load(od);
  torch::Tensor iteration, noise_state, sampler_state, loss_d, loss_g;
  archive.read("iteration", iteration);
  archive.read("noise_state", noise_state);
  archive.read("sampler_state", sampler_state);
  archive.read("loss_d", loss_d);
  archive.read("loss_g", loss_g);
  s.noise.set_state(noise_state);
  sampler.restore(tensor_text(sampler_state));
  result.loss_d = float_vector(loss_d);
  result.loss_g = float_vector(loss_g);
  if (dp) {
    torch::Tensor dp_sampler, dp_noise, dp_batch, dp_clipped;
    archive.read("dp_sampler_state", dp_sampler);
    dp->sampler.restore(tensor_text(dp_sampler));
    if (!dp->noise.secure_source()) {
      archive.read("dp_noise_state", dp_noise);
      dp->noise.generator().set_state(dp_noise);
    }
    archive.read("dp_batch_size", dp_batch);
    archive.read("dp_clipped_fraction", dp_clipped);
    result.dp_batch_size = float_vector(dp_batch);
    result.dp_clipped_fraction = float_vector(dp_clipped);
  }
  return iteration.item<std::int64_t>();
}

const auto kSum = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum);

// What a discriminator update leaves for the generator's update and the record. Losses are sums over this
// rank's rows divided by the global batch, so the group's gradients add up to the mean.
struct DiscriminatorStep {
  torch::Tensor fake;        // this rank's generated rows, for the generator's update
  torch::Tensor loss_d;      // this rank's part of the loss
  double divisor = 1;        // global batch size (B, or qN under DP)
  double clipped_rows = 0;   // DP: rows of this rank whose gradient norm exceeded C
  double rows = 0;           // DP: rows of this rank
  std::int64_t sampled = 0;  // DP: real rows Poisson-sampled this step (global)
};

// One discriminator update on a minibatch: the non-saturating loss BCE(D(x), 1) + BCE(D(G(z)), 0), or, given
// gp_lambda, the WGAN-GP critic loss D(G(z)) − D(x) + λ (‖∇D(x̂)‖ − 1)² with its interpolation weights drawn
// for the global batch like the latents.
DiscriminatorStep discriminator_step(GanState& s, BatchSampler& sampler, const at::Tensor& images, const Group& group,
                                     int z_dim, std::optional<double> gp_lambda) {
  const auto rows = sampler.next();
  const auto batch = static_cast<std::int64_t>(rows.size());
  DiscriminatorStep step{.divisor = static_cast<double>(batch)};
  const auto real = images.index_select(0, group.shard_rows(rows));
  step.fake = s.generator->forward(group.shard(torch::randn({batch, z_dim}, s.noise)));
  s.opt_d.zero_grad();
  const auto logits_real = s.discriminator->forward(real);
  const auto logits_fake = s.discriminator->forward(step.fake.detach());
  if (gp_lambda) {
    const auto epsilon = group.shard(torch::rand({batch}, s.noise));
    const auto penalty = gradient_penalty([&](const at::Tensor& x) { return s.discriminator->forward(x); }, real,
                                          step.fake.detach(), epsilon);
    step.loss_d = (logits_fake.sum() - logits_real.sum() + *gp_lambda * penalty.sum()) / step.divisor;
  } else {
    step.loss_d = (F::binary_cross_entropy_with_logits(logits_real, torch::ones_like(logits_real), kSum) +
                   F::binary_cross_entropy_with_logits(logits_fake, torch::zeros_like(logits_fake), kSum)) /
                  step.divisor;
  }
  step.loss_d.backward();
  group.sum_gradients(*s.discriminator);
  s.opt_d.step();
  return step;
}

// DP-SGD (SPEC §2): Poisson-sampled real rows and round(qN) generated rows in one forward, every row's
// gradient clipped, noise once per step (the group's rank 0 adds it before the sum), divided by qN.
DiscriminatorStep dp_discriminator_step(GanState& s, DpState& dp, const at::Tensor& images, const Group& group,
                                        int z_dim) {
  const auto rows = dp.sampler.next();
  DiscriminatorStep step{.divisor = dp.expected_batch, .sampled = static_cast<std::int64_t>(rows.size())};
  const auto real = images.index_select(0, group.shard_rows(rows));
  step.fake = s.generator->forward(group.shard(torch::randn({dp.fake_rows, z_dim}, s.noise)));
  const auto input = torch::cat({real, step.fake.detach()});
  const auto target = torch::cat({torch::ones({real.size(0)}), torch::zeros({step.fake.size(0)})});
  for (auto* layer : dp.layers) layer->set_capture(true);
  const auto row_loss = F::binary_cross_entropy_with_logits(
      s.discriminator->forward(input), target, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
  s.opt_d.zero_grad();
  row_loss.sum().backward();
  for (auto* layer : dp.layers) layer->set_capture(false);
  const auto stats = privacy::dp_sgd_gradients(
      dp.layers, {dp.options.max_grad_norm, dp.options.noise_multiplier, dp.expected_batch}, dp.noise,
      /*adds_noise=*/group.rank == 0, [&](std::vector<at::Tensor>& sums) { group.sum(sums); });
  s.opt_d.step();
  step.loss_d = row_loss.detach().sum() / step.divisor;
  step.clipped_rows = stats.clipped_fraction * static_cast<double>(stats.samples);
  step.rows = static_cast<double>(stats.samples);
  return step;
}

}  // namespace

GanRunResult train_gan(const GanRunSpec& spec, const at::Tensor& images,
                       const std::function<void(std::int64_t)>& on_step) {
  TORCH_CHECK(images.dim() == 4 && images.size(0) > 0, "train_gan: expected (N, C, 32, 32) images, got ",
              images.sizes());
  std::filesystem::create_directories(spec.run_dir);
  const models::DcganOptions options{spec.model.z_dim, spec.model.width, static_cast<int>(images.size(1))};

  torch::manual_seed(derive_seed(spec.seed, "train-init"));  // weight initialisation
  GanState s(spec, options);
  models::dcgan_init(*s.generator);
  models::dcgan_init(*s.discriminator);
  BatchSampler sampler(images.size(0), spec.train.batch_size, derive_seed(spec.seed, "train-batches"));
  std::optional<DpState> dp;
  if (spec.dp) dp.emplace(*spec.dp, images.size(0), spec.seed, s.discriminator);

  GanRunResult result;
  const auto checkpoint = spec.run_dir / "checkpoint.pt";
  std::int64_t start = 0;
  if (std::filesystem::exists(checkpoint)) {
    start = load_checkpoint(checkpoint, s, sampler, dp, result);
    result.resumed_from = start;
  }

  const Group group(spec.group);
  if (group.ranks > 1) {
    models::synchronise_batch_norm(*s.generator,
                                   [&](const at::Tensor& x) { return spec.group->all_reduce_sum_differentiable(x); });
  }
  s.generator->train();
  s.discriminator->train();
  const bool wasserstein = spec.model.name == "wgan-gp";
  TORCH_CHECK(!(wasserstein && dp), "train_gan: DP-SGD is not available for wgan-gp (its penalty would bypass clipping)");
  for (std::int64_t it = start; it < spec.train.iterations; ++it) {
    DiscriminatorStep d;
    for (int k = 0; k < spec.train.critic_steps; ++k) {
      d = dp ? dp_discriminator_step(s, *dp, images, group, spec.model.z_dim)
             : discriminator_step(s, sampler, images, group, spec.model.z_dim,
                                  wasserstein ? std::optional(spec.train.gp_lambda) : std::nullopt);
      if (dp) result.dp_batch_size.push_back(static_cast<float>(d.sampled));
    }

    // Generator: make D call its samples real (WGAN: raise the critic's score of them).
    s.opt_g.zero_grad();
    const auto logits_gen = s.discriminator->forward(d.fake);
    const auto loss_g =
        (wasserstein ? -logits_gen.sum() : F::binary_cross_entropy_with_logits(logits_gen, torch::ones_like(logits_gen), kSum)) /
        d.divisor;
    loss_g.backward();
    group.sum_gradients(*s.generator);
    s.opt_g.step();

    std::vector<at::Tensor> record{
        torch::tensor({d.loss_d.item<double>(), loss_g.item<double>(), d.clipped_rows, d.rows}, torch::kFloat64)};
    group.sum(record);
    const auto* r = record[0].data_ptr<double>();
    result.loss_d.push_back(static_cast<float>(r[0]));
    result.loss_g.push_back(static_cast<float>(r[1]));
    if (dp) result.dp_clipped_fraction.push_back(r[3] > 0 ? static_cast<float>(r[2] / r[3]) : 0.0f);
    if (group.rank == 0 && (it + 1) % spec.train.checkpoint_every == 0 && it + 1 < spec.train.iterations) {
      save_checkpoint(checkpoint, s, sampler, dp, it + 1, result);
    }
    if (on_step) on_step(it + 1);
  }
  result.iterations = spec.train.iterations;
  if (group.rank != 0) return result;  // one copy of the release, from the group's rank 0

  io::write_atomically(generator_file(spec.run_dir),
                       [&](const std::filesystem::path& tmp) { torch::save(s.generator, tmp.string()); });
  io::write_atomically(discriminator_file(spec.run_dir),
                       [&](const std::filesystem::path& tmp) { torch::save(s.discriminator, tmp.string()); });
  return result;
}

}  // namespace ganleaks::train
