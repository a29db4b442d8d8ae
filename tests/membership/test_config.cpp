#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/errors.h"
#include "membership/config.h"

namespace ganleaks::membership {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSource = "configs/demo.toml";

Config load_file(const std::filesystem::path& file) { return parse_config(read_config_file(file), file.string()); }

// The message of the ConfigError that parsing `text` throws ("" if it does not throw).
std::string error_of(const std::string& text) {
  try {
    parse_config(text, kSource);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return "";
}

TEST(Config, EmptyTextGivesDefaults) {
  const Config c = parse_config("", "empty");
  Config expected;
  expected.source = "empty";
  EXPECT_EQ(c, expected);
  EXPECT_EQ(c.experiment.name, "experiment");
  EXPECT_EQ(c.experiment.results_dir, "results");
  EXPECT_EQ(c.experiment.seeds, (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(c.experiment.threads_per_rank, 1);
  EXPECT_EQ(c.data.dataset, "fashion-mnist");
  EXPECT_EQ(c.data.path, "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(c.data.pool, "train");
  EXPECT_EQ(c.data.image_size, 32);
  EXPECT_EQ(c.data.reference_size, 1000);
  EXPECT_EQ(c.data.member_selection, "random");
  EXPECT_EQ(c.sweep.train_sizes, (std::vector<std::int64_t>{64, 256, 1024}));
  EXPECT_EQ(c.model.names, std::vector<std::string>{"dcgan"});
  EXPECT_EQ(c.model.z_dim, 100);
  EXPECT_EQ(c.model.width, 32);
  EXPECT_EQ(c.train.iterations, 2000);
  EXPECT_EQ(c.train.batch_size, 64);
  EXPECT_DOUBLE_EQ(c.train.lr_g, 2e-4);
  EXPECT_DOUBLE_EQ(c.train.lr_d, 2e-4);
  EXPECT_DOUBLE_EQ(c.train.beta1, 0.5);
  EXPECT_DOUBLE_EQ(c.train.beta2, 0.999);
  EXPECT_EQ(c.train.checkpoint_every, 500);
  EXPECT_EQ(c.attack.settings, (std::vector<std::string>{"fbb", "dis"}));
  EXPECT_EQ(c.attack.calibrated, (std::vector<bool>{false, true}));
  EXPECT_EQ(c.attack.max_queries, 500);
  EXPECT_EQ(c.attack.fbb_samples, 20000);
  EXPECT_EQ(c.attack.block_size, 256);
}

TEST(Config, EmptySectionsGiveDefaults) {
  const Config c = parse_config("[experiment]\n[data]\n[sweep]\n[model]\n[train]\n[attack]\n", "x");
  EXPECT_EQ(c, parse_config("", "x"));
}

constexpr const char* kFull = R"(
[experiment]
name = "full_run-1.b"
results_dir = "out/results \"quoted\""
seeds = [7, 3, 9007199254740992]
threads_per_rank = 4

[data]
dataset = "fashion-mnist"
path = "/data/fm"
pool = "all"
image_size = 28
reference_size = 1000000
member_selection = "random"

[sweep]
train_sizes = [10000000, 1, 512]

[model]
name = "dcgan"
z_dim = 4096
width = 4

[train]
iterations = 1000000000
batch_size = 65536
lr_g = 1
lr_d = 0.1
beta1 = 0
beta2 = 0.9999999999999999
checkpoint_every = 3

[attack]
settings = ["dis"]
calibrated = [true]
max_queries = 10000000
fbb_samples = 100000000
block_size = 1
)";

TEST(Config, FullConfigIsReadAndRoundTrips) {
  const Config c = parse_config(kFull, "full.toml");
  EXPECT_EQ(c.source, "full.toml");
  EXPECT_EQ(c.experiment.name, "full_run-1.b");
  EXPECT_EQ(c.experiment.results_dir, "out/results \"quoted\"");
  EXPECT_EQ(c.experiment.seeds, (std::vector<std::uint64_t>{7, 3, 9007199254740992ULL}));
  EXPECT_EQ(c.experiment.threads_per_rank, 4);
  EXPECT_EQ(c.data.path, "/data/fm");
  EXPECT_EQ(c.data.pool, "all");
  EXPECT_EQ(c.data.image_size, 28);
  EXPECT_EQ(c.data.reference_size, 1000000);
  EXPECT_EQ(c.model.z_dim, 4096);
  EXPECT_EQ(c.model.width, 4);
  EXPECT_EQ(c.train.iterations, 1000000000);
  EXPECT_EQ(c.train.batch_size, 65536);
  EXPECT_EQ(c.train.lr_g, 1.0);
  EXPECT_EQ(c.train.lr_d, 0.1);
  EXPECT_EQ(c.train.beta1, 0.0);
  EXPECT_EQ(c.train.beta2, 0.9999999999999999);
  EXPECT_EQ(c.train.checkpoint_every, 3);
  EXPECT_EQ(c.attack.settings, (std::vector<std::string>{"dis"}));
  EXPECT_EQ(c.attack.calibrated, (std::vector<bool>{true}));
  EXPECT_EQ(c.attack.max_queries, 10000000);
  EXPECT_EQ(c.attack.fbb_samples, 100000000);
  EXPECT_EQ(c.attack.block_size, 1);

  const std::string text = to_toml(c);
  EXPECT_EQ(parse_config(text, c.source), c) << text;
  EXPECT_EQ(to_toml(parse_config(text, c.source)), text);
}

TEST(Config, DefaultsRoundTripAndListEveryKey) {
  const Config c = parse_config("", "defaults");
  const std::string text = to_toml(c);
  EXPECT_EQ(parse_config(text, "defaults"), c) << text;
  for (const char* line : {"[experiment]\n",
                           "name = \"experiment\"\n",
                           "results_dir = \"results\"\n",
                           "seeds = [0]\n",
                           "threads_per_rank = 1\n",
                           "ranks_per_run = 1\n",
                           "[data]\n",
                           "dataset = \"fashion-mnist\"\n",
                           "path = \"/usr/share/datasets/fashion-mnist\"\n",
                           "pool = \"train\"\n",
                           "image_size = 32\n",
                           "reference_size = 1000\n",
                           "member_selection = \"random\"\n",
                           "member_classes = [0, 1, 2, 3, 4]\n",
                           "[sweep]\n",
                           "train_sizes = [64, 256, 1024]\n",
                           "[model]\n",
                           "name = \"dcgan\"\n",
                           "z_dim = 100\n",
                           "width = 32\n",
                           "[train]\n",
                           "iterations = 2000\n",
                           "batch_size = 64\n",
                           "lr_g = 0.0002\n",
                           "lr_d = 0.0002\n",
                           "beta1 = 0.5\n",
                           "beta2 = 0.999\n",
                           "checkpoint_every = 500\n",
                           "critic_steps = 1\n",
                           "gp_lambda = 10.0\n",
                           "pretrain_iterations = 500\n",
                           "vaegan_gamma = 1.0\n",
                           "[attack]\n",
                           "settings = [\"fbb\", \"dis\"]\n",
                           "calibrated = [false, true]\n",
                           "max_queries = 500\n",
                           "fbb_samples = 20000\n",
                           "block_size = 256\n",
                           "[privacy]\n",
                           "target_epsilons = []\n",
                           "noise_multipliers = []\n",
                           "non_private = true\n",
                           "max_grad_norm = 1.0\n",
                           "secure_noise = false\n"}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
}

TEST(Config, AwkwardFloatsRoundTripExactly) {
  for (double lr : {1e-10, 0.1, 1.0 / 3.0, 3e-4, 0.30000000000000004, 1.0, 5e-324}) {
    Config c = parse_config("", "floats");
    c.train.lr_g = lr;
    c.train.beta2 = lr / 2;
    const std::string text = to_toml(c);
    EXPECT_EQ(parse_config(text, "floats"), c) << text;
  }
}

TEST(Config, TrainSizesAreStoredSorted) {
  const Config c = parse_config("[sweep]\ntrain_sizes = [1024, 64, 256, 1]\n", kSource);
  EXPECT_EQ(c.sweep.train_sizes, (std::vector<std::int64_t>{1, 64, 256, 1024}));
}

TEST(Config, FloatKeysAcceptIntegers) {
  const Config c = parse_config("[train]\nlr_g = 1\nlr_d = 1\nbeta1 = 0\nbeta2 = 0\n", kSource);
  EXPECT_EQ(c.train.lr_g, 1.0);
  EXPECT_EQ(c.train.lr_d, 1.0);
  EXPECT_EQ(c.train.beta1, 0.0);
  EXPECT_EQ(c.train.beta2, 0.0);
}

TEST(Config, IntegerKeysRejectFloats) {
  EXPECT_THAT(error_of("[train]\nbatch_size = 64.0\n"),
              AllOf(HasSubstr(kSource), HasSubstr("train.batch_size = 64.0 has wrong type (float)"),
                    HasSubstr("expected an integer in [1, 65536]")));
  EXPECT_THAT(error_of("[sweep]\ntrain_sizes = [64, 128.0]\n"),
              AllOf(HasSubstr("sweep.train_sizes[1] = 128.0 has wrong type (float)"),
                    HasSubstr("expected an integer in [1, 10000000]")));
  EXPECT_THAT(error_of("[data]\nimage_size = 32.0\n"),
              AllOf(HasSubstr("data.image_size = 32.0 has wrong type (float)"), HasSubstr("one of: 28, 32")));
}

TEST(Config, WrongTypes) {
  EXPECT_EQ(error_of("[sweep]\ntrain_sizes = \"64\"\n"),
            "configs/demo.toml: sweep.train_sizes has wrong type (string); expected an array of integers");
  EXPECT_THAT(
      error_of("[train]\nlr_g = \"fast\"\n"),
      AllOf(HasSubstr("train.lr_g = \"fast\" has wrong type (string)"), HasSubstr("a float in (0, 1]")));
  EXPECT_THAT(error_of("[experiment]\nname = 5\n"),
              AllOf(HasSubstr("experiment.name = 5 has wrong type (integer)"), HasSubstr("[A-Za-z0-9_.-]")));
  EXPECT_THAT(error_of("[model]\nname = 3\n"),
              AllOf(HasSubstr("model.name = 3 has wrong type (integer)"), HasSubstr("one of: dcgan")));
  EXPECT_THAT(error_of("[model]\nname = [\"dcgan\", \"gan\"]\n"),
              HasSubstr("model.name[1] = \"gan\" is not allowed; expected one of: dcgan"));
  EXPECT_THAT(error_of("[model]\nname = [\"vae\", \"vae\"]\n"), HasSubstr("model.name contains \"vae\" twice"));
  EXPECT_THAT(
      error_of("[attack]\ncalibrated = [true, \"no\"]\n"),
      AllOf(HasSubstr("attack.calibrated[1] = \"no\" has wrong type (string)"), HasSubstr("a boolean")));
  EXPECT_THAT(error_of("[attack]\nsettings = \"fbb\"\n"),
              HasSubstr("attack.settings has wrong type (string); expected an array of strings"));
  EXPECT_THAT(error_of("train = 5\n"),
              HasSubstr("configs/demo.toml: train has wrong type (integer); expected a table"));
  EXPECT_THAT(error_of("[[train]]\nbatch_size = 1\n"), HasSubstr("train has wrong type (array)"));
}

TEST(Config, OutOfRange) {
  EXPECT_EQ(error_of("[train]\nbatch_size = 0\n"),
            "configs/demo.toml: train.batch_size = 0 is out of range; expected an integer in [1, 65536]");
  EXPECT_THAT(error_of("[train]\nlr_g = 0\n"),
              AllOf(HasSubstr("train.lr_g = 0.0 is out of range"), HasSubstr("expected a float in (0, 1]")));
  EXPECT_THAT(error_of("[train]\nlr_d = 1.5\n"), HasSubstr("train.lr_d = 1.5 is out of range"));
  EXPECT_THAT(error_of("[train]\nbeta2 = 1.0\n"),
              AllOf(HasSubstr("train.beta2 = 1.0 is out of range"), HasSubstr("expected a float in [0, 1)")));
  EXPECT_THAT(error_of("[train]\nbeta1 = -0.1\n"), HasSubstr("train.beta1 = -0.1 is out of range"));
  EXPECT_THAT(error_of("[train]\nbeta1 = nan\n"), HasSubstr("train.beta1 = nan is out of range"));
  EXPECT_THAT(
      error_of("[experiment]\nthreads_per_rank = 257\n"),
      HasSubstr("experiment.threads_per_rank = 257 is out of range; expected an integer in [1, 256]"));
  EXPECT_THAT(
      error_of("[experiment]\nseeds = [1, -1]\n"),
      HasSubstr("experiment.seeds[1] = -1 is out of range; expected an integer in [0, 9007199254740992]"));
  EXPECT_THAT(error_of("[experiment]\nseeds = [9007199254740993]\n"),
              HasSubstr("experiment.seeds[0] = 9007199254740993 is out of range"));
  EXPECT_THAT(error_of("[model]\nwidth = 3\n"),
              HasSubstr("model.width = 3 is out of range; expected an integer in [4, 1024]"));
  EXPECT_THAT(
      error_of("[attack]\nfbb_samples = 100000001\n"),
      HasSubstr("attack.fbb_samples = 100000001 is out of range; expected an integer in [1, 100000000]"));
  EXPECT_THAT(error_of("[sweep]\ntrain_sizes = [0]\n"),
              HasSubstr("sweep.train_sizes[0] = 0 is out of range; expected an integer in [1, 10000000]"));
}

TEST(Config, NotOneOfTheAllowedValues) {
  EXPECT_EQ(error_of("[model]\nname = \"stylegan\"\n"),
            "configs/demo.toml: model.name = \"stylegan\" is not allowed; expected one of: dcgan, wgan-gp, pggan, sngan, vae, vaegan, vaegan-larsen, medgan, ddpm");
  EXPECT_THAT(error_of("[data]\npool = \"val\"\n"),
              HasSubstr("data.pool = \"val\" is not allowed; expected one of: train, test, all"));
  EXPECT_THAT(error_of("[data]\nimage_size = 64\n"),
              HasSubstr("data.image_size = 64 is not allowed; expected one of: 28, 32"));
  EXPECT_THAT(error_of("[data]\ndataset = \"mnist\"\n"), HasSubstr("expected one of: fashion-mnist"));
  EXPECT_THAT(error_of("[data]\nmember_selection = \"first\"\n"), HasSubstr("expected one of: random, class"));
  EXPECT_THAT(error_of("[attack]\nsettings = [\"fbb\", \"lira\"]\n"),
              HasSubstr("attack.settings[1] = \"lira\" is not allowed; expected one of: fbb, pbb, wb, dis, mc, domias"));
  EXPECT_THAT(error_of("[attack]\npbb_init = \"nearest\"\n"),
              HasSubstr("attack.pbb_init = \"nearest\" is not allowed; expected one of: nn, zero, random"));
  EXPECT_THAT(error_of("[attack]\npbb_bracket = 0.0\n"), HasSubstr("expected a float in (0, 1000]"));
  EXPECT_THAT(
      error_of("[experiment]\nname = \"a b\"\n"),
      HasSubstr("experiment.name = \"a b\" is not allowed; expected 1 to 64 characters from [A-Za-z0-9_.-]"));
  EXPECT_THAT(error_of("[experiment]\nname = \"\"\n"), HasSubstr("experiment.name = \"\" is not allowed"));
  EXPECT_THAT(error_of("[experiment]\nname = \"" + std::string(65, 'a') + "\"\n"),
              HasSubstr("is not allowed; expected 1 to 64 characters"));
  EXPECT_NO_THROW(parse_config("[experiment]\nname = \"" + std::string(64, 'a') + "\"\n", kSource));
  EXPECT_THAT(error_of("[experiment]\nresults_dir = \"\"\n"),
              HasSubstr("experiment.results_dir = \"\" is not allowed; expected a non-empty string"));
  EXPECT_THAT(error_of("[data]\npath = \"\"\n"), HasSubstr("data.path = \"\" is not allowed"));
}

TEST(Config, ArraysMustBeNonEmptyAndUnique) {
  EXPECT_EQ(error_of("[sweep]\ntrain_sizes = [64, 128, 64]\n"),
            "configs/demo.toml: sweep.train_sizes contains 64 twice; expected unique values");
  EXPECT_THAT(error_of("[experiment]\nseeds = [1, 1]\n"), HasSubstr("experiment.seeds contains 1 twice"));
  EXPECT_THAT(error_of("[attack]\nsettings = [\"dis\", \"dis\"]\n"),
              HasSubstr("attack.settings contains \"dis\" twice; expected unique values"));
  EXPECT_THAT(error_of("[attack]\ncalibrated = [true, true]\n"),
              HasSubstr("attack.calibrated contains true twice; expected unique values"));
  EXPECT_THAT(error_of("[sweep]\ntrain_sizes = []\n"),
              HasSubstr("sweep.train_sizes = [] is empty; expected a non-empty array of integers"));
  EXPECT_THAT(error_of("[experiment]\nseeds = []\n"), HasSubstr("experiment.seeds = [] is empty"));
  EXPECT_THAT(error_of("[attack]\ncalibrated = []\n"), HasSubstr("non-empty array of booleans"));
}

TEST(Config, PrivacyLevels) {
  const auto c = parse_config("[privacy]\ntarget_epsilons = [10, 0.5]\nnon_private = false\nsecure_noise = true\n", "p.toml");
  EXPECT_EQ(c.privacy.target_epsilons, (std::vector<double>{10.0, 0.5}));
  EXPECT_FALSE(c.privacy.non_private);
  EXPECT_TRUE(c.privacy.secure_noise);
  EXPECT_EQ(parse_config(to_toml(c), c.source), c);
  EXPECT_THAT(error_of("[privacy]\ntarget_epsilons = [1.0]\nnoise_multipliers = [1.0]\n"),
              HasSubstr("privacy.target_epsilons and privacy.noise_multipliers are both given"));
  EXPECT_THAT(error_of("[privacy]\nnon_private = false\n"), HasSubstr("leaves no victim to train"));
  EXPECT_THAT(error_of("[privacy]\nnoise_multipliers = [0.0]\n"),
              HasSubstr("privacy.noise_multipliers[0] = 0.0 is out of range"));
  EXPECT_THAT(error_of("[privacy]\nnon_private = 1\n"), HasSubstr("privacy.non_private = 1 has wrong type"));
  EXPECT_THAT(error_of("[experiment]\nranks_per_run = 0\n"), HasSubstr("experiment.ranks_per_run = 0 is out of range"));
  EXPECT_THAT(error_of("[model]\nname = \"wgan-gp\"\n[privacy]\nnoise_multipliers = [1.0]\n"),
              HasSubstr("is available for model.name = \"dcgan\" only, not \"wgan-gp\""));
  EXPECT_THAT(error_of("[data]\ndataset = \"fashion-mnist-binary\"\n[model]\nname = \"medgan\"\n"
                       "[attack]\nlambda_lpips = 1.0\nlpips_model = \"x.pt\"\n"),
              HasSubstr("attack.lambda_lpips = 1.0 compares images"));
  // The perceptual classifier needs a Fashion-MNIST file outside the pool; LPIPS needs its model file.
  EXPECT_THAT(error_of("[data]\npool = \"all\"\n[attack]\nsettings = [\"wb\"]\nlambda_lpips = 0.2\n"
                       "perceptual = \"classifier\"\n"),
              HasSubstr("data.pool = \"all\" leaves none; set data.pool = \"train\" or \"test\""));
  EXPECT_THAT(error_of("[attack]\nsettings = [\"wb\"]\nlambda_lpips = 0.2\n"), HasSubstr("needs attack.lpips_model"));
  EXPECT_NO_THROW(parse_config("[attack]\nsettings = [\"wb\"]\nlambda_lpips = 0.2\nperceptual = \"classifier\"\n", "t.toml"));
  // The model must fit the data's modality, whichever way round.
  EXPECT_THAT(error_of("[model]\nname = \"medgan\"\n"),
              HasSubstr("model.name = \"medgan\" is a model of records, but data.dataset = \"fashion-mnist\" holds images"));
  EXPECT_THAT(error_of("[data]\ndataset = \"fashion-mnist-binary\"\n"),
              HasSubstr("model.name = \"dcgan\" is a model of images, but data.dataset = \"fashion-mnist-binary\" holds records"));
}

TEST(Config, UnknownKeysAndSections) {
  EXPECT_EQ(
      error_of("[train]\nbatchsize = 64\n"),
      "configs/demo.toml: unknown key 'train.batchsize'; valid keys in [train]: iterations, batch_size, "
      "lr_g, lr_d, beta1, beta2, checkpoint_every, critic_steps, gp_lambda, pretrain_iterations, vaegan_gamma");
  EXPECT_EQ(
      error_of("[trian]\nbatch_size = 64\n"),
      "configs/demo.toml: unknown section [trian]; valid sections: experiment, data, sweep, model, train, "
      "attack, privacy");
  EXPECT_THAT(
      error_of("[attack]\nblock = 1\n"),
      HasSubstr("unknown key 'attack.block'; valid keys in [attack]: settings, calibrated, max_queries, "
                "fbb_samples, block_size"));
  EXPECT_THAT(
      error_of("[experiment.extra]\nx = 1\n"),
      HasSubstr("unknown key 'experiment.extra'; valid keys in [experiment]: task, name, results_dir, seeds, "
                "threads_per_rank"));
  EXPECT_THAT(error_of("seed = 1\n"),
              AllOf(HasSubstr("configs/demo.toml: unknown top-level key 'seed';"),
                    HasSubstr("valid sections: experiment, data, sweep, model, train, attack")));
}

TEST(Config, SyntaxErrorHasLineAndColumn) {
  const std::string message = error_of("[train]\nbatch_size = 64\nlr_g = = 1\n");
  EXPECT_THAT(message, ContainsRegex("^configs/demo\\.toml:3:[0-9]+: "));
  EXPECT_THAT(message, HasSubstr("TOML syntax error: "));
  EXPECT_THAT(message, Not(HasSubstr("\n")));
  EXPECT_THAT(
      error_of("[train]\nbatch_size = 1\nbatch_size = 2\n"),
      AllOf(ContainsRegex("^configs/demo\\.toml:3:[0-9]+: TOML syntax error"), HasSubstr("batch_size")));
}

TEST(Config, MessagesStayOnOneLine) {
  const std::string message = error_of("[train]\n\"bad\\nkey\" = 1\n");
  EXPECT_THAT(message, Not(HasSubstr("\n")));
  EXPECT_THAT(message, HasSubstr("unknown key 'train.bad"));
}

TEST(Config, LoadConfigReadsFileAndNamesMissingOnes) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ganleaks_test_config";
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "demo.toml";
  {
    std::ofstream out(file);
    out << "[model]\nz_dim = 8\n[train]\nbatch_size = 0\n";
  }
  try {
    load_file(file);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file.string() + ": train.batch_size = 0 is out of range"));
  }
  {
    std::ofstream out(file);
    out << "[model]\nz_dim = 8\n";
  }
  const Config c = load_file(file);
  EXPECT_EQ(c.model.z_dim, 8);
  EXPECT_EQ(c.source, file.string());

  const std::filesystem::path missing = dir / "missing.toml";
  try {
    load_file(missing);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(missing.string()));
  }
  try {
    load_file(dir);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(dir.string()));
  }
  std::filesystem::remove_all(dir);
}

TEST(Config, ConfigErrorIsAUserError) {
  EXPECT_THROW(parse_config("[model]\nz_dim = 0\n", kSource), UserError);
}


// model.name takes one model or a list to compare; the resolved config writes it back the same way.
TEST(Config, ModelNameIsOneModelOrAList) {
  const Config one = parse_config("[model]\nname = \"vae\"\n", "one");
  EXPECT_EQ(one.model.names, std::vector<std::string>{"vae"});
  EXPECT_NE(to_toml(one).find("name = \"vae\"\n"), std::string::npos);
  const Config many = parse_config("[model]\nname = [\"dcgan\", \"vae\", \"pggan\"]\n", "many");
  EXPECT_EQ(many.model.names, (std::vector<std::string>{"dcgan", "vae", "pggan"}));
  EXPECT_EQ(parse_config(to_toml(many), "many"), many);
  EXPECT_EQ(many.model.only("vae").names, std::vector<std::string>{"vae"});
  EXPECT_EQ(many.model.only("vae").name(), "vae");
}

// Diffusion models: the settings that read them, and the timesteps those settings need within T, each refused with
// the keys named.
TEST(Config, DiffusionSettingsAndTheirTimesteps) {
  const std::string ddpm = "[model]\nname = \"ddpm\"\nwidth = 16\n";
  EXPECT_NO_THROW(parse_config(ddpm + "[attack]\nsettings = [\"loss\", \"secmi\", \"pia\", \"fbb\", \"mc\"]\n", kSource));
  EXPECT_THAT(error_of("[attack]\nsettings = [\"loss\"]\n"),
              HasSubstr("attack.settings lists \"loss\", which applies to no model of model.name"));
  EXPECT_THAT(error_of(ddpm + "[attack]\nsettings = [\"wb\"]\n"), HasSubstr("ddpm has no discriminator"));
  EXPECT_THAT(error_of("[model]\nname = \"ddpm\"\nwidth = 12\n"),
              HasSubstr("model.width = 12 must be a multiple of 8"));
  EXPECT_THAT(error_of(ddpm + "diffusion_steps = 100\n[attack]\nsettings = [\"pia\"]\n"),
              HasSubstr("attack.pia_t = 200 must be below model.diffusion_steps = 100"));
  EXPECT_THAT(error_of(ddpm + "[attack]\nsettings = [\"secmi\"]\nsecmi_t = 95\n"),
              HasSubstr("attack.secmi_t = 95 must be a multiple of attack.secmi_interval = 10"));
  EXPECT_THAT(error_of(ddpm + "[attack]\nsettings = [\"loss\"]\nloss_timesteps = [10, 1000]\n"),
              HasSubstr("attack.loss_timesteps holds 1000"));
  EXPECT_THAT(error_of(ddpm + "sampling_steps = 2000\n"), HasSubstr("model.sampling_steps = 2000 exceeds"));
  // Several models: each gets what applies to it, so dis and loss together are fine.
  EXPECT_NO_THROW(parse_config("[model]\nname = [\"dcgan\", \"ddpm\"]\nwidth = 16\n[attack]\nsettings = [\"dis\", \"loss\"]\n",
                               kSource));
}

// [[variant]] tables: each arm is the file's config with the variant's keys set; the rest of the file is shared.
constexpr const char* kVariants = R"(
[model]
z_dim = 100
[attack]
settings = ["fbb", "wb"]
wb_max_evaluations = 300
[[variant]]
label = "cut"
[[variant]]
label = "paper-nn"
attack.wb_max_evaluations = 1000
attack.wb_init = "nn"
[[variant]]
label = "z32"
model.z_dim = 32
train.iterations = 50
)";

TEST(Config, VariantsAreArmsOfTheFilesConfig) {
  const Config c = parse_config(kVariants, kSource);
  ASSERT_EQ(c.variants.size(), 3u);
  EXPECT_EQ(c.attack.wb_max_evaluations, 300);  // the file's own values are the base of every arm
  const auto all = arms(c);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].label, "cut");
  EXPECT_EQ(all[1].label, "paper-nn");
  EXPECT_EQ(all[2].label, "z32");
  EXPECT_EQ(all[0].config.attack, c.attack);
  EXPECT_EQ(all[0].config.model, c.model);
  EXPECT_EQ(all[1].config.attack.wb_max_evaluations, 1000);
  EXPECT_EQ(all[1].config.attack.wb_init, "nn");
  EXPECT_EQ(all[1].config.attack.settings, c.attack.settings);
  EXPECT_EQ(all[1].config.model, c.model);
  EXPECT_EQ(all[2].config.model.z_dim, 32);
  EXPECT_EQ(all[2].config.train.iterations, 50);
  EXPECT_EQ(all[2].config.attack, c.attack);
  for (const auto& arm : all) {
    EXPECT_EQ(arm.config.data, c.data);
    EXPECT_EQ(arm.config.experiment, c.experiment);
    EXPECT_TRUE(arm.config.variants.empty());
  }
  // Without variants: one arm, the config itself.
  const Config plain = parse_config("", kSource);
  ASSERT_EQ(arms(plain).size(), 1u);
  EXPECT_EQ(arms(plain)[0].label, "");
  EXPECT_EQ(arms(plain)[0].config, plain);
  // The resolved text (what a results folder keeps) reads back to the same config, variants included.
  const auto resolved = to_toml(c) + variants_toml(c.variants);
  EXPECT_EQ(parse_config(resolved, kSource), c) << resolved;
}

TEST(Config, VariantErrorsNameTheVariant) {
  const std::string base = "[attack]\nsettings = [\"fbb\"]\n";
  EXPECT_THAT(error_of(base + "[[variant]]\nattack.wb_init = \"nn\"\n"),
              AllOf(HasSubstr("configs/demo.toml"), HasSubstr("variant[0] has no label")));
  EXPECT_THAT(error_of(base + "[[variant]]\nlabel = \"a b\"\n"), HasSubstr("variant[0].label = \"a b\" is not allowed"));
  EXPECT_THAT(error_of(base + "[[variant]]\nlabel = \"a\"\n[[variant]]\nlabel = \"a\"\n"),
              HasSubstr("variant label \"a\" is given twice"));
  EXPECT_THAT(error_of("variant = 3\n" + base), HasSubstr("variant has wrong type (integer)"));
  EXPECT_THAT(error_of(base + "[[variant]]\nlabel = \"d\"\ndata.reference_size = 10\n"),
              AllOf(HasSubstr("variant \"d\": 'data' cannot vary between variants"), HasSubstr("[attack], [model], [train]")));
  EXPECT_THAT(error_of(base + "[[variant]]\nlabel = \"k\"\nattack.wb_inti = \"nn\"\n"),
              AllOf(HasSubstr("configs/demo.toml, variant \"k\""), HasSubstr("unknown key 'attack.wb_inti'")));
  EXPECT_THAT(error_of(base + "[[variant]]\nlabel = \"r\"\nattack.wb_max_evaluations = 0\n"),
              AllOf(HasSubstr("variant \"r\""), HasSubstr("attack.wb_max_evaluations = 0 is out of range")));
  EXPECT_THAT(error_of(base + "[[variant]]\nlabel = \"q\"\nattack.max_queries = 10\n"),
              AllOf(HasSubstr("variant \"q\""), HasSubstr("attack.max_queries cannot differ between variants")));
  EXPECT_THAT(error_of(base + "[[variant]]\nlabel = \"m\"\nmodel.name = \"vae\"\n"),
              AllOf(HasSubstr("variant \"m\""), HasSubstr("model.name cannot differ between variants")));
  // A rule between keys holds in every arm: the classifier's perceptual term needs a pool with a file left out.
  EXPECT_THAT(error_of("[data]\npool = \"all\"\n[attack]\nsettings = [\"wb\"]\n[[variant]]\nlabel = \"p\"\n"
                       "attack.lambda_lpips = 0.2\nattack.perceptual = \"classifier\"\n"),
              AllOf(HasSubstr("variant \"p\""), HasSubstr("data.pool = \"all\" leaves none")));
}

}  // namespace
}  // namespace ganleaks::membership
