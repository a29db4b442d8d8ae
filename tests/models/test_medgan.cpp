// MEDGAN networks: shapes and ranges, the decoder shared between autoencoder and generator, autoencoder
// pretraining that learns, and a discriminator that scores every record on its own in eval mode.
#include "models/medgan.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace ganleaks::models {
namespace {

const MedganOptions kSmall{.features = 20, .code_dim = 16, .z_dim = 16, .hidden = 32};

// 64 distinct records of 20 features: one of 4 blocks of 4 features on (record % 4), plus the bits of
// record / 4 in the last 4 features.
at::Tensor structured_records() {
  auto x = torch::zeros({64, 20});
  for (int i = 0; i < 64; ++i) {
    x[i].slice(0, 4 * (i % 4), 4 * (i % 4) + 4).fill_(1);
    for (int bit = 0; bit < 4; ++bit) x[i][16 + bit] = ((i / 4) >> bit) & 1;
  }
  return x;
}

TEST(Medgan, AutoencoderShapesAndRanges) {
  torch::manual_seed(0);
  MedganAutoencoder autoencoder(kSmall);
  const auto x = structured_records().slice(0, 0, 5);
  const auto code = autoencoder->encode(x);
  EXPECT_EQ(code.sizes(), (std::vector<std::int64_t>{5, 16}));
  EXPECT_LT(code.abs().max().item<float>(), 1.0F);
  const auto p = autoencoder->forward(x);
  EXPECT_EQ(p.sizes(), (std::vector<std::int64_t>{5, 20}));
  EXPECT_GT(p.min().item<float>(), 0.0F);
  EXPECT_LT(p.max().item<float>(), 1.0F);
  EXPECT_THROW(autoencoder->forward(torch::zeros({5, 19})), c10::Error);
}

TEST(Medgan, GeneratorGivesProbabilities) {
  torch::manual_seed(0);
  MedganAutoencoder autoencoder(kSmall);
  MedganGenerator generator(kSmall, autoencoder->decoder_layer());
  EXPECT_EQ(generator->z_dim(), 16);
  const auto z = torch::randn({8, 16});
  EXPECT_EQ(generator->code_generator(z).sizes(), (std::vector<std::int64_t>{8, 16}));
  const auto p = generator->forward(z);
  EXPECT_EQ(p.sizes(), (std::vector<std::int64_t>{8, 20}));
  EXPECT_GT(p.min().item<float>(), 0.0F);
  EXPECT_LT(p.max().item<float>(), 1.0F);
  // forward is the decoder applied to the code generator's output.
  generator->eval();
  EXPECT_TRUE(torch::allclose(generator->forward(z), autoencoder->decode(generator->code_generator(z))));
}

TEST(Medgan, GeneratorRefusesMismatchedDimensions) {
  MedganAutoencoder autoencoder(kSmall);
  auto options = kSmall;
  options.z_dim = 8;
  EXPECT_THROW(MedganGenerator(options, autoencoder->decoder_layer()), c10::Error);
  MedganAutoencoder other(MedganOptions{.features = 21, .code_dim = 16, .z_dim = 16});
  EXPECT_THROW(MedganGenerator(kSmall, other->decoder_layer()), c10::Error);
}

TEST(Medgan, GeneratorSharesTheAutoencodersDecoder) {
  MedganAutoencoder autoencoder(kSmall);
  MedganGenerator generator(kSmall, autoencoder->decoder_layer());
  const auto params = generator->named_parameters();
  ASSERT_TRUE(params.contains("decoder.weight"));
  ASSERT_TRUE(params.contains("decoder.bias"));
  {
    torch::NoGradGuard no_grad;
    autoencoder->decoder_layer()->weight.fill_(0.25);
  }
  EXPECT_TRUE(torch::equal(params["decoder.weight"], torch::full({20, 16}, 0.25)));
  {
    torch::NoGradGuard no_grad;
    params["decoder.bias"].fill_(-3);
  }
  EXPECT_TRUE(torch::equal(autoencoder->named_parameters()["decoder.bias"], torch::full({20}, -3.0)));
}

TEST(Medgan, BinariseGivesRecords) {
  const auto p = torch::tensor({0.0, 0.2, 0.49999, 0.5, 0.7, 1.0});
  const auto records = binarise(p);
  EXPECT_EQ(records.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(records, torch::tensor({0.0F, 0.0F, 0.0F, 1.0F, 1.0F, 1.0F})));
  torch::manual_seed(0);
  const auto b = binarise(torch::rand({10, 20}));
  EXPECT_TRUE(((b == 0) | (b == 1)).all().item<bool>());
}

TEST(Medgan, AutoencoderPretrainingLowersTheReconstructionLoss) {
  torch::manual_seed(0);
  MedganAutoencoder autoencoder(kSmall);
  const auto x = structured_records();
  const auto loss = [&] { return torch::binary_cross_entropy(autoencoder->forward(x), x); };
  const double before = loss().item<double>();
  torch::optim::Adam adam(autoencoder->parameters(), torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 300; ++step) {
    adam.zero_grad();
    loss().backward();
    adam.step();
  }
  const double after = loss().item<double>();
  EXPECT_LT(after, 0.1 * before) << "BCE " << before << " -> " << after;
  EXPECT_TRUE(torch::equal(binarise(autoencoder->forward(x)), x));  // every record reconstructed exactly
}

TEST(Medgan, DiscriminatorScoresEachRecordOnItsOwnInEvalMode) {
  torch::manual_seed(0);
  MedganDiscriminator discriminator(kSmall);
  const auto x = structured_records();
  EXPECT_EQ(discriminator->forward(x).sizes(), (std::vector<std::int64_t>{64}));

  // Training: the batch mean is part of every record's input, so the company a record keeps matters.
  discriminator->train();
  const auto record = x.slice(0, 5, 6);
  const auto in_batch = discriminator->forward(x.slice(0, 0, 8))[5];
  const auto in_other_batch = discriminator->forward(torch::cat({record, x.slice(0, 40, 47)}))[0];
  EXPECT_FALSE(torch::allclose(in_batch, in_other_batch));

  discriminator->eval();
  const auto alone = discriminator->forward(record)[0];
  EXPECT_TRUE(torch::allclose(discriminator->forward(x.slice(0, 0, 8))[5], alone));
  EXPECT_TRUE(torch::allclose(discriminator->forward(torch::cat({record, x.slice(0, 40, 47)}))[0], alone));
}

TEST(Medgan, DiscriminatorKeepsARunningBatchMean) {
  MedganDiscriminator discriminator(kSmall);
  const auto x = structured_records();
  EXPECT_TRUE(torch::equal(discriminator->running_mean, torch::zeros({20})));
  discriminator->train();
  discriminator->forward(x);
  EXPECT_TRUE(torch::allclose(discriminator->running_mean, 0.1 * x.mean(0)));
  discriminator->forward(x);
  EXPECT_TRUE(torch::allclose(discriminator->running_mean, 0.19 * x.mean(0)));
  discriminator->eval();
  discriminator->forward(x);  // eval leaves it alone
  EXPECT_TRUE(torch::allclose(discriminator->running_mean, 0.19 * x.mean(0)));
}

}  // namespace
}  // namespace ganleaks::models
