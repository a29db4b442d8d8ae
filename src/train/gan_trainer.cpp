#include "train/gan_trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <fmt/format.h>

#include <sstream>

#include "core/seeding.h"
#include "io/atomic_file.h"
#include "models/dcgan.h"

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

void save_checkpoint(const std::filesystem::path& file, GanState& s, const BatchSampler& sampler,
                     std::int64_t iteration, const GanRunResult& result) {
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
  const auto sampler_state = sampler.state();
  archive.write("sampler_state",
                torch::from_blob(const_cast<char*>(sampler_state.data()), {static_cast<long>(sampler_state.size())},
                                 torch::kUInt8)
                    .clone());
  archive.write("loss_d", torch::tensor(result.loss_d));
  archive.write("loss_g", torch::tensor(result.loss_g));
  io::write_atomically(file, [&](const std::filesystem::path& tmp) { archive.save_to(tmp.string()); });
}

std::int64_t load_checkpoint(const std::filesystem::path& file, GanState& s, BatchSampler& sampler,
                             GanRunResult& result) {
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
  sampler.restore(std::string(reinterpret_cast<const char*>(sampler_state.data_ptr<std::uint8_t>()),
                              sampler_state.numel()));
  result.loss_d.assign(loss_d.data_ptr<float>(), loss_d.data_ptr<float>() + loss_d.numel());
  result.loss_g.assign(loss_g.data_ptr<float>(), loss_g.data_ptr<float>() + loss_g.numel());
  return iteration.item<std::int64_t>();
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

  GanRunResult result;
  const auto checkpoint = spec.run_dir / "checkpoint.pt";
  std::int64_t start = 0;
  if (std::filesystem::exists(checkpoint)) {
    start = load_checkpoint(checkpoint, s, sampler, result);
    result.resumed_from = start;
  }

  s.generator->train();
  s.discriminator->train();
  for (std::int64_t it = start; it < spec.train.iterations; ++it) {
    const auto rows = sampler.next();
    const auto real = images.index_select(0, torch::tensor(rows));
    const auto batch = real.size(0);
    const auto z = torch::randn({batch, spec.model.z_dim}, s.noise);

    // Discriminator: real -> 1, fake -> 0 (non-saturating GAN, Goodfellow et al. 2014).
    s.opt_d.zero_grad();
    const auto fake = s.generator->forward(z);
    const auto logits_real = s.discriminator->forward(real);
    const auto logits_fake = s.discriminator->forward(fake.detach());
    const auto loss_d = F::binary_cross_entropy_with_logits(logits_real, torch::ones_like(logits_real)) +
                        F::binary_cross_entropy_with_logits(logits_fake, torch::zeros_like(logits_fake));
    loss_d.backward();
    s.opt_d.step();

    // Generator: make D call its samples real.
    s.opt_g.zero_grad();
    const auto logits_gen = s.discriminator->forward(fake);
    const auto loss_g = F::binary_cross_entropy_with_logits(logits_gen, torch::ones_like(logits_gen));
    loss_g.backward();
    s.opt_g.step();

    result.loss_d.push_back(loss_d.item<float>());
    result.loss_g.push_back(loss_g.item<float>());
    if ((it + 1) % spec.train.checkpoint_every == 0 && it + 1 < spec.train.iterations) {
      save_checkpoint(checkpoint, s, sampler, it + 1, result);
    }
    if (on_step) on_step(it + 1);
  }
  result.iterations = spec.train.iterations;

  io::write_atomically(generator_file(spec.run_dir),
                       [&](const std::filesystem::path& tmp) { torch::save(s.generator, tmp.string()); });
  io::write_atomically(discriminator_file(spec.run_dir),
                       [&](const std::filesystem::path& tmp) { torch::save(s.discriminator, tmp.string()); });
  return result;
}

}  // namespace ganleaks::train
