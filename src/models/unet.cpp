#include "models/unet.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace ganleaks::models {
namespace F = torch::nn::functional;

at::Tensor timestep_embedding(const at::Tensor& t, int dim) {
  if (dim < 4 || dim % 2 != 0) throw std::invalid_argument("timestep_embedding: an even dim of at least 4");
  const int half = dim / 2;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(t.device());
  const auto frequencies = torch::exp(torch::arange(half, options) * (-std::log(10000.0) / (half - 1)));
  const auto angles = t.to(torch::kFloat32).unsqueeze(1) * frequencies.unsqueeze(0);
  return torch::cat({angles.sin(), angles.cos()}, 1);
}

namespace {
torch::nn::Conv2d conv3(int in, int out, int stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1));
}
}  // namespace

ResidualBlockImpl::ResidualBlockImpl(int in, int out, int embedding, int groups)
    : norm1_(register_module("norm1", torch::nn::GroupNorm(groups, in))),
      norm2_(register_module("norm2", torch::nn::GroupNorm(groups, out))),
      conv1_(register_module("conv1", conv3(in, out))),
      conv2_(register_module("conv2", conv3(out, out))),
      time_(register_module("time", torch::nn::Linear(embedding, out))) {
  if (in != out) skip_ = register_module("skip", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)));
}

at::Tensor ResidualBlockImpl::forward(const at::Tensor& x, const at::Tensor& embedding) {
  auto h = conv1_(F::silu(norm1_(x)));
  h = h + time_(embedding).unsqueeze(-1).unsqueeze(-1);
  h = conv2_(F::silu(norm2_(h)));
  return (skip_ ? skip_(x) : x) + h;
}

SelfAttentionImpl::SelfAttentionImpl(int channels, int groups)
    : norm_(register_module("norm", torch::nn::GroupNorm(groups, channels))),
      qkv_(register_module("qkv", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 3 * channels, 1)))),
      out_(register_module("out", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 1)))) {}

at::Tensor SelfAttentionImpl::forward(const at::Tensor& x) {
  const auto b = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  const auto qkv = qkv_(norm_(x)).reshape({b, 3, c, hw});
  const auto q = qkv.select(1, 0), k = qkv.select(1, 1), v = qkv.select(1, 2);  // (B, C, HW)
  const auto weights = torch::softmax(torch::bmm(q.transpose(1, 2), k) / std::sqrt(static_cast<double>(c)), -1);
  const auto attended = torch::bmm(v, weights.transpose(1, 2));  // (B, C, HW): every position a mix of all
  return x + out_(attended.reshape(x.sizes()));
}

UnetImpl::UnetImpl(const UnetOptions& options) : options_(options), embedding_dim_(4 * options.width) {
  const int w = options.width, g = options.groups, levels = static_cast<int>(options.multipliers.size());
  time1_ = register_module("time1", torch::nn::Linear(w, embedding_dim_));
  time2_ = register_module("time2", torch::nn::Linear(embedding_dim_, embedding_dim_));
  in_ = register_module("stem", conv3(options.channels, w));
  down_ = register_module("down", torch::nn::ModuleList());
  up_ = register_module("up", torch::nn::ModuleList());
  std::vector<int> skips{w};  // the channels of every activation kept for the way up
  int ch = w;
  for (int level = 0; level < levels; ++level) {
    const int out = w * options.multipliers[static_cast<std::size_t>(level)];
    for (int b = 0; b < options.blocks; ++b) {
      down_->push_back(ResidualBlock(ch, out, embedding_dim_, g)), down_resamples_.push_back(false);
      skips.push_back(ch = out);
    }
    if (level + 1 < levels) {
      down_->push_back(conv3(ch, ch, 2)), down_resamples_.push_back(true);
      skips.push_back(ch);
    }
  }
  middle1_ = register_module("middle1", ResidualBlock(ch, ch, embedding_dim_, g));
  if (options.attention) attention_ = register_module("attention", SelfAttention(ch, g));
  middle2_ = register_module("middle2", ResidualBlock(ch, ch, embedding_dim_, g));
  for (int level = levels - 1; level >= 0; --level) {
    const int out = w * options.multipliers[static_cast<std::size_t>(level)];
    for (int b = 0; b <= options.blocks; ++b) {
      up_->push_back(ResidualBlock(ch + skips.back(), out, embedding_dim_, g)), up_resamples_.push_back(false);
      skips.pop_back();
      ch = out;
    }
    if (level > 0) up_->push_back(conv3(ch, ch)), up_resamples_.push_back(true);  // after a nearest ×2 upsampling
  }
  out_norm_ = register_module("out_norm", torch::nn::GroupNorm(g, ch));
  out_ = register_module("head", conv3(ch, options.channels));
}

at::Tensor UnetImpl::forward(const at::Tensor& x, const at::Tensor& t) {
  const auto embedding = F::silu(time2_(F::silu(time1_(timestep_embedding(t, options_.width)))));
  auto h = in_(x);
  std::vector<at::Tensor> skips{h};
  for (std::size_t i = 0; i < down_->size(); ++i) {
    h = down_resamples_[i] ? down_[i]->as<torch::nn::Conv2dImpl>()->forward(h)
                           : down_[i]->as<ResidualBlockImpl>()->forward(h, embedding);
    skips.push_back(h);
  }
  h = middle1_(h, embedding);
  if (attention_) h = attention_(h);
  h = middle2_(h, embedding);
  for (std::size_t i = 0; i < up_->size(); ++i) {
    if (up_resamples_[i]) {
      h = up_[i]->as<torch::nn::Conv2dImpl>()->forward(
          F::interpolate(h, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest)));
    } else {
      h = up_[i]->as<ResidualBlockImpl>()->forward(torch::cat({h, skips.back()}, 1), embedding);
      skips.pop_back();
    }
  }
  return out_(F::silu(out_norm_(h)));
}

}  // namespace ganleaks::models
