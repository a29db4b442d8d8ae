#pragma once
// Experiment configuration: one TOML file drives `ganleaks run|plan|report <config>`.
//
// Every key is optional; the defaults below are what an empty file means. Unknown sections/keys,
// wrong types and out-of-range values throw ConfigError with a one-line message naming the source,
// the dotted key, the offending value and what is allowed. Keys and bounds are documented in
// configs/README.md; to add a key, add the field here and one line in describe() in config.cpp.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ganleaks {

struct ExperimentConfig {
  std::string name = "experiment";  // folder under results_dir; [A-Za-z0-9_.-]{1,64}
  std::string results_dir = "results";
  std::vector<std::uint64_t> seeds{0};  // one sweep per seed; unique, in [0, 2^53]
  int threads_per_rank = 1;             // LibTorch intra-op threads per MPI rank
  int ranks_per_run = 1;                // ranks that train one model together (data parallel); divides the rank count
  bool operator==(const ExperimentConfig&) const = default;
};

struct DataConfig {
  // "fashion-mnist" (images), "fashion-mnist-binary" (its pixels thresholded at 128: binary records) or
  // "tabular" (path: an .h5/.hdf5 file with datasets "features" and optional "labels", or a .csv file whose
  // optional "label" column holds the labels; data/tabular.h)
  std::string dataset = "fashion-mnist";
  std::string path = "/usr/share/datasets/fashion-mnist";
  std::string pool = "train";          // "train", "test" or "all"
  int image_size = 32;                 // 28, or 32 (28x28 padded by 2 pixels a side)
  std::int64_t reference_size = 1000;  // records for the reference model G_r
  std::string member_selection = "random";  // or "class": members only from member_classes (data/splits.h)
  std::vector<std::int64_t> member_classes{0, 1, 2, 3, 4};
  bool operator==(const DataConfig&) const = default;
};

struct SweepConfig {
  std::vector<std::int64_t> train_sizes{64, 256, 1024};  // unique, sorted ascending
  bool operator==(const SweepConfig&) const = default;
};

struct ModelConfig {
  // models/catalog.h: dcgan, wgan-gp, pggan, sngan, vae, vaegan, medgan. TOML: one name, or a list of unique
  // names to compare (a sweep dimension: every model gets its own victims, references and attacks).
  std::vector<std::string> names{"dcgan"};
  int z_dim = 100;
  int width = 32;  // base channel count
  // The model a builder makes: the first name (runners pass only(job's model)).
  const std::string& name() const { return names.front(); }
  ModelConfig only(const std::string& name) const {
    auto one = *this;
    one.names = {name};
    return one;
  }
  bool operator==(const ModelConfig&) const = default;
};

struct TrainConfig {
  std::int64_t iterations = 2000;  // generator steps
  int batch_size = 64;
  double lr_g = 2e-4, lr_d = 2e-4, beta1 = 0.5, beta2 = 0.999;
  std::int64_t checkpoint_every = 500;
  int critic_steps = 1;     // discriminator (critic) updates per generator update; WGAN-GP's paper uses 5
  double gp_lambda = 10.0;  // wgan-gp, pggan: weight of the gradient penalty
  std::int64_t pretrain_iterations = 500;  // medgan: autoencoder steps before the GAN's `iterations`
  double vaegan_gamma = 1.0;  // vaegan: weight of the feature-wise reconstruction in the decoder's loss
  bool operator==(const TrainConfig&) const = default;
};

struct AttackConfig {
  // unique, from {"fbb", "pbb", "wb", "dis", "mc", "domias"} (docs/attacks.md)
  std::vector<std::string> settings{"fbb", "dis"};
  std::vector<bool> calibrated{false, true};  // unique
  std::int64_t max_queries = 500;
  std::int64_t fbb_samples = 20000;  // k: generated samples for fbb, mc, domias and the pbb start
  int block_size = 256;              // queries per block, the unit of sharding over ranks
  int bootstrap_resamples = 1000;    // 0: no intervals
  double lambda_reg = 0.001;         // latent-norm regulariser of pbb/wb during optimisation only
  double lambda_lpips = 0;           // weight of LPIPS in the pbb/wb loss; > 0 needs lpips_model
  std::string lpips_model;           // TorchScript LPIPS model file (attacks/lpips.h)
  int wb_max_evaluations = 1000;
  int wb_history = 20;
  int wb_restarts = 1;
  std::string wb_init = "random";   // first start: "random" (the paper), "nn" or "zero"; later restarts random
  int pbb_iterations = 10;
  int pbb_line_evaluations = 10;
  double pbb_bracket = 1.0;
  std::string pbb_init = "nn";       // "nn", "zero" or "random"
  bool operator==(const AttackConfig&) const = default;
};

// DP-SGD victims (SPEC §2, docs/privacy.md). Each listed ε or σ adds a privacy level to the sweep: its own
// victims (and attacks) at every training-set size; the reference model never uses DP (it is the attacker's).
struct PrivacyConfig {
  std::vector<double> target_epsilons;    // DP victims at these ε (the accountant finds σ); unique, > 0
  std::vector<double> noise_multipliers;  // or at these σ; at most one of the two lists
  bool non_private = true;                // also train victims without DP-SGD
  double max_grad_norm = 1.0;             // C: per-sample clipping norm
  double sample_rate = 0;                 // q; 0: batch_size / n
  double delta = 0;                       // δ; 0: 1/n rounded down to a power of ten
  bool secure_noise = false;              // noise from getrandom(2) instead of the seeded generator
  bool operator==(const PrivacyConfig&) const = default;
};

struct Config {
  ExperimentConfig experiment;
  DataConfig data;
  SweepConfig sweep;
  ModelConfig model;
  TrainConfig train;
  AttackConfig attack;
  PrivacyConfig privacy;
  std::string source;  // file path or name the config came from
  bool operator==(const Config&) const = default;
};

// Parses and validates TOML text; source_name starts every error message and becomes Config::source.
Config parse_config(std::string_view toml_text, std::string_view source_name);

// Reads and parses a file; a missing or unreadable file is a ConfigError naming it.
Config load_config(const std::filesystem::path& file);

// The fully resolved config (every key, defaults filled in); parse_config of it gives an equal Config
// when given c.source as the source name.
std::string to_toml(const Config& c);

}  // namespace ganleaks
