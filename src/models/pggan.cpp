#include "models/pggan.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

namespace ganleaks::models {
namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {
constexpr int kFullResolution = 32;

int resolution(int stage) { return 4 << stage; }
int stage_channels(int width, int stage) { return (8 * width) >> stage; }

nn::LeakyReLU leaky() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); }
EqualizedConv2d conv3(int in, int out) { return EqualizedConv2d(in, out, 3, 1); }

torch::Tensor upsample(const torch::Tensor& x, int size) {
  return F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<std::int64_t>{size, size}).mode(torch::kNearest));
}
torch::Tensor downsample(const torch::Tensor& x, int factor) {
  return factor == 1 ? x : F::avg_pool2d(x, F::AvgPool2dFuncOptions(factor));
}

void check_stage(const char* module, int stage, double alpha) {
  TORCH_CHECK(stage >= 0 && stage < kPgganStages, module, ": stage must be in [0, ", kPgganStages, "), got ", stage);
  TORCH_CHECK(alpha >= 0 && alpha <= 1, module, ": alpha must be in [0, 1], got ", alpha);
}
}  // namespace

PgganSchedule pggan_schedule(double fraction, int stages) {
  TORCH_CHECK(stages >= 1, "pggan_schedule: stages must be >= 1, got ", stages);
  TORCH_CHECK(!std::isnan(fraction), "pggan_schedule: fraction is NaN");
  if (fraction >= 1) return {stages - 1, 1.0};
  const double t = std::max(fraction, 0.0) * stages;
  const int phase = static_cast<int>(t);
  if (phase == 0) return {0, 1.0};
  return {phase, std::min(1.0, 2.0 * (t - phase))};
}

EqualizedConv2dImpl::EqualizedConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel,
                                         std::int64_t padding, double gain)
    : padding_(padding), scale_(gain / std::sqrt(static_cast<double>(in * kernel * kernel))) {
  weight = register_parameter("weight", torch::randn({out, in, kernel, kernel}));
  bias = register_parameter("bias", torch::zeros({out}));
}

torch::Tensor EqualizedConv2dImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == weight.size(1), "EqualizedConv2d: expected input of shape (B, ",
              weight.size(1), ", H, W), got ", x.sizes());
  return F::conv2d(x, weight * scale_, F::Conv2dFuncOptions().bias(bias).padding(padding_));
}

EqualizedLinearImpl::EqualizedLinearImpl(std::int64_t in, std::int64_t out, double gain)
    : scale_(gain / std::sqrt(static_cast<double>(in))) {
  weight = register_parameter("weight", torch::randn({out, in}));
  bias = register_parameter("bias", torch::zeros({out}));
}

torch::Tensor EqualizedLinearImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == weight.size(1), "EqualizedLinear: expected input of shape (B, ",
              weight.size(1), "), got ", x.sizes());
  return F::linear(x, weight * scale_, bias);
}

torch::Tensor PixelNormImpl::forward(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(1, /*keepdim=*/true) + 1e-8);
}

MinibatchStddevImpl::MinibatchStddevImpl(int group_size, double momentum)
    : group_size_(group_size), momentum_(momentum) {
  TORCH_CHECK(group_size >= 1, "MinibatchStddev: group_size must be >= 1, got ", group_size);
  running_stat = register_buffer("running_stat", torch::zeros({}));
}

torch::Tensor MinibatchStddevImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4, "MinibatchStddev: expected (B, C, H, W), got ", x.sizes());
  const std::int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  if (!is_training()) return torch::cat({x, running_stat.to(x.dtype()).expand({b, 1, h, w})}, 1);

  std::int64_t groups = std::min<std::int64_t>(group_size_, b);  // G: samples per group
  while (b % groups != 0) --groups;
  const auto grouped = x.view({groups, b / groups, x.size(1), h, w});
  const auto stat = torch::sqrt(grouped.var(0, /*unbiased=*/false) + 1e-8).mean({1, 2, 3});  // (B / G)
  {
    torch::NoGradGuard no_grad;
    running_stat.mul_(1 - momentum_).add_(stat.mean().to(running_stat.dtype()), momentum_);
  }
  // Sample g·M + m belongs to group m: tiling the M statistics G times lines them up with the batch.
  return torch::cat({x, stat.repeat({groups}).view({b, 1, 1, 1}).expand({b, 1, h, w})}, 1);
}

PgganGeneratorImpl::PgganGeneratorImpl(const PgganOptions& options) : options_(options) {
  TORCH_CHECK(options.z_dim > 0 && options.width > 0 && options.channels > 0,
              "PgganGenerator: z_dim, width and channels must be positive");
  const int c0 = stage_channels(options.width, 0);
  // Gain sqrt(2)/4 as in the paper's code: the dense layer stands for a 4x4 transposed convolution.
  blocks_.push_back(nn::Sequential(PixelNorm(), EqualizedLinear(options.z_dim, c0 * 16, std::sqrt(2.0) / 4),
                                   nn::Unflatten(nn::UnflattenOptions(1, {c0, 4, 4})), leaky(), PixelNorm(),
                                   conv3(c0, c0), leaky(), PixelNorm()));
  for (int s = 1; s < kPgganStages; ++s) {
    const int in = stage_channels(options.width, s - 1), out = stage_channels(options.width, s);
    blocks_.push_back(nn::Sequential(
        nn::Upsample(nn::UpsampleOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest)),
        conv3(in, out), leaky(), PixelNorm(), conv3(out, out), leaky(), PixelNorm()));
  }
  for (int s = 0; s < kPgganStages; ++s) {
    register_module("block" + std::to_string(s), blocks_[s]);
    to_rgb_.push_back(register_module("to_rgb" + std::to_string(s),
                                      EqualizedConv2d(stage_channels(options.width, s), options.channels, 1, 0, 1.0)));
  }
}

void PgganGeneratorImpl::set_stage(int stage, double alpha) {
  check_stage("PgganGenerator", stage, alpha);
  stage_ = stage;
  alpha_ = alpha;
}

void PgganGeneratorImpl::set_progress(double fraction) {
  const auto [stage, alpha] = pggan_schedule(fraction);
  set_stage(stage, alpha);
}

torch::nn::Sequential PgganGeneratorImpl::block(int stage) const { return blocks_.at(stage); }
EqualizedConv2d PgganGeneratorImpl::to_rgb(int stage) const { return to_rgb_.at(stage); }

at::Tensor PgganGeneratorImpl::forward(const at::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options_.z_dim, "PgganGenerator: expected z of shape (B, ",
              options_.z_dim, "), got ", z.sizes());
  auto h = blocks_[0]->forward(z);
  for (int s = 1; s < stage_; ++s) h = blocks_[s]->forward(h);
  at::Tensor image;
  if (stage_ == 0) {
    image = to_rgb_[0]->forward(h);
  } else {
    image = to_rgb_[stage_]->forward(blocks_[stage_]->forward(h));
    if (alpha_ < 1) {
      image = alpha_ * image + (1 - alpha_) * upsample(to_rgb_[stage_ - 1]->forward(h), resolution(stage_));
    }
  }
  return upsample(image, kFullResolution);
}

PgganDiscriminatorImpl::PgganDiscriminatorImpl(const PgganOptions& options) : options_(options) {
  TORCH_CHECK(options.width > 0 && options.channels > 0, "PgganDiscriminator: width and channels must be positive");
  const int c0 = stage_channels(options.width, 0);
  blocks_.push_back(nn::Sequential(MinibatchStddev(), conv3(c0 + 1, c0), leaky(), EqualizedConv2d(c0, c0, 4, 0),
                                   leaky(), nn::Flatten(), EqualizedLinear(c0, 1, 1.0)));
  for (int s = 1; s < kPgganStages; ++s) {
    const int in = stage_channels(options.width, s), out = stage_channels(options.width, s - 1);
    blocks_.push_back(nn::Sequential(conv3(in, in), leaky(), conv3(in, out), leaky(), nn::AvgPool2d(2)));
  }
  for (int s = 0; s < kPgganStages; ++s) {
    register_module("block" + std::to_string(s), blocks_[s]);
    from_rgb_.push_back(register_module(
        "from_rgb" + std::to_string(s),
        nn::Sequential(EqualizedConv2d(options.channels, stage_channels(options.width, s), 1, 0), leaky())));
  }
}

void PgganDiscriminatorImpl::set_stage(int stage, double alpha) {
  check_stage("PgganDiscriminator", stage, alpha);
  stage_ = stage;
  alpha_ = alpha;
}

void PgganDiscriminatorImpl::set_progress(double fraction) {
  const auto [stage, alpha] = pggan_schedule(fraction);
  set_stage(stage, alpha);
}

torch::nn::Sequential PgganDiscriminatorImpl::block(int stage) const { return blocks_.at(stage); }
torch::nn::Sequential PgganDiscriminatorImpl::from_rgb(int stage) const { return from_rgb_.at(stage); }

at::Tensor PgganDiscriminatorImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.channels && x.size(2) == kFullResolution &&
                  x.size(3) == kFullResolution,
              "PgganDiscriminator: expected images of shape (B, ", options_.channels, ", 32, 32), got ", x.sizes());
  const auto xs = downsample(x, kFullResolution / resolution(stage_));
  auto h = from_rgb_[stage_]->forward(xs);
  if (stage_ > 0) {
    h = blocks_[stage_]->forward(h);
    if (alpha_ < 1) h = alpha_ * h + (1 - alpha_) * from_rgb_[stage_ - 1]->forward(downsample(xs, 2));
  }
  for (int s = stage_ - 1; s >= 1; --s) h = blocks_[s]->forward(h);
  return blocks_[0]->forward(h).view({x.size(0)});
}

}  // namespace ganleaks::models
