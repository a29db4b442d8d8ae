#pragma once
// Experiment configuration: one TOML file drives `ganleaks run|plan|report <config>`.
//
// Every key is optional; the defaults below are what an empty file means. Unknown sections/keys,
// wrong types and out-of-range values throw ConfigError with a one-line message naming the source,
// the dotted key, the offending value and what is allowed. Keys and bounds are documented in
// configs/README.md; to add a key, add the field here and one line in describe() in config.cpp.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ganleaks {

struct ExperimentConfig {
  // "membership" (GAN-Leaks: victims, references, membership attacks; [sweep] [attack] [privacy]) or
  // "extraction" (Stealing GANs: a target, attack GANs trained on its answers; [extraction] [defenses]).
  std::string task = "membership";
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

// Model extraction (Stealing GANs, Hu & Pang ACSAC 2021; SPEC §3; docs/extraction.md), experiment.task =
// "extraction". The target is model.name, trained like any model of the zoo on target_train_size real
// records; the thief trains attack_models on what the target answers.
struct ExtractionConfig {
  std::int64_t target_train_size = 4096;
  std::vector<std::int64_t> target_classes;  // [] = every class; else the target sees these classes only
  std::vector<std::string> attack_models{"dcgan"};  // models of the zoo (images, with a discriminator)
  std::int64_t attack_iterations = 0;               // the thief's training steps; 0 = train.iterations
  std::vector<std::string> priors{"normal"};        // the thief's latents: "normal" N(0, I), "uniform" U(-1, 1)
  std::vector<std::int64_t> fidelity_queries{10000, 20000, 50000};  // budgets N of fidelity extraction
  // Accuracy extraction: generator calls Q (calibration samples and every MH proposal count); [] = none.
  std::vector<std::int64_t> accuracy_queries;
  std::vector<std::string> refiners{"mh"};  // "mh" (Metropolis-Hastings, Turner et al.), "drs" (Azadi et al.)
  std::string calibration = "isotonic";     // of the target discriminator: "isotonic" or "platt"
  std::int64_t mh_chain_length = 640;       // K proposals per MH chain (SPEC default)
  double drs_gamma_quantile = 0.95;         // DRS: γ puts this quantile of F(x) on the burn-in at 0
  std::int64_t partial_real = 1000;         // real records the thief holds (accuracy extraction)
  std::vector<std::string> defenses;        // evaluated at defense_queries (docs/extraction.md)
  std::int64_t defense_queries = 20000;
  std::int64_t fid_samples = 5000;          // generated samples per FID (the real side: the target's training set)
  bool transfer = false;                    // the transfer case study (Sec. 7)
  std::vector<std::int64_t> transfer_classes{5, 6, 7, 8, 9};
  std::int64_t transfer_train_size = 1000;
  std::int64_t transfer_iterations = 1000;
  bool operator==(const ExtractionConfig&) const = default;
};

// The strength grids of the defenses (every value one defended variant of the target; SPEC §3 "Defenses").
struct DefenseConfig {
  std::vector<double> linear_strength{0.5};       // linear: z' = (1 − s) z + s z_partner, s in [0, 1]
  std::int64_t linear_partners = 16;              // the owner's secret latents the partners come from
  std::vector<double> semantic_magnitude{3.0};    // semantic: z' = z + m n (n: a class hyperplane's normal)
  std::int64_t semantic_samples = 2000;           // target samples scored by the classifier to fit the hyperplanes
  std::int64_t semantic_k = 200;                  // top / bottom k of them label the linear SVM
  std::vector<double> noise_std{0.1};             // gaussian-noise: σ of the added noise ([-1, 1] pixel scale)
  std::vector<double> adversarial_epsilon{0.03};  // adversarial-noise: L∞ radius of the PGD perturbation
  int adversarial_steps = 1;                      // PGD steps (1: FGSM)
  std::vector<double> filter_sigma{1.0};          // gaussian-filter: σ in pixels
  std::vector<std::int64_t> jpeg_quality{20};     // jpeg: libjpeg-turbo quality (lower = stronger)
  bool operator==(const DefenseConfig&) const = default;
};

// The network behind every extraction FID and class histogram (SPEC §4).
struct FeaturesConfig {
  // "classifier": the project's Fashion-MNIST classifier (trained once, cached under results_dir/cache);
  // "torchscript": a user's TorchScript feature network (e.g. Inception-v3 pool3) for FID, the classifier
  // still giving the class histograms.
  std::string extractor = "classifier";
  std::string torchscript_model;  // the file, for extractor = "torchscript"
  int input_size = 299;           // torchscript: images resized to this side (bilinear)
  int channels = 3;               // torchscript: 1, or 3 (grey repeated)
  std::string input_range = "0-1";  // torchscript: what the network expects, "0-1" or "-1-1"
  // The classifier's training (models/classifier.h): these defaults reach 91 % Fashion-MNIST test accuracy.
  std::int64_t classifier_iterations = 3000;
  int classifier_batch_size = 64;
  double classifier_lr = 2e-3;
  int classifier_width = 24;
  int classifier_feature_dim = 64;
  std::uint64_t classifier_seed = 0;
  bool operator==(const FeaturesConfig&) const = default;
};

struct Config {
  ExperimentConfig experiment;
  DataConfig data;
  SweepConfig sweep;
  ModelConfig model;
  TrainConfig train;
  AttackConfig attack;
  PrivacyConfig privacy;
  ExtractionConfig extraction;
  DefenseConfig defenses;
  FeaturesConfig features;
  std::string source;  // file path or name the config came from
  bool operator==(const Config&) const = default;
};

// The defenses of [extraction] defenses, and the sections that belong to each experiment.task.
inline constexpr std::array<std::string_view, 6> kDefenseNames{"linear", "semantic", "gaussian-noise", "adversarial-noise",
                                                             "gaussian-filter", "jpeg"};

// Parses and validates TOML text; source_name starts every error message and becomes Config::source.
Config parse_config(std::string_view toml_text, std::string_view source_name);

// Reads and parses a file; a missing or unreadable file is a ConfigError naming it.
Config load_config(const std::filesystem::path& file);

// The fully resolved config (every key, defaults filled in); parse_config of it gives an equal Config
// when given c.source as the source name.
std::string to_toml(const Config& c);
// One section of it ("train" -> "[train]\n..."), "" for a section of the other task.
std::string section_toml(const Config& c, std::string_view section);

}  // namespace ganleaks
