#include "privacy/grad_sample.h"

#include <torch/autograd.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/init.h>

#include <cmath>

namespace ganleaks::privacy {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

PerSampleLayer* layer_of(AutogradContext* ctx) {
  return reinterpret_cast<PerSampleLayer*>(ctx->saved_data["layer"].toInt());
}

// y = conv2d(x, w, b). Backward: the input gradient as LibTorch computes it, and per sample i
// dW_i = g_i · unfold(x_i)ᵀ (g_i: (C_out, L) output gradient, unfold(x_i): (C_in·k·k, L) input patches),
// db_i = Σ_L g_i.
struct Conv2dFunction : torch::autograd::Function<Conv2dFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const std::optional<torch::Tensor>& bias, std::vector<std::int64_t> stride,
                               std::vector<std::int64_t> padding, PerSampleLayer* layer) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["has_bias"] = bias.has_value();
    ctx->saved_data["layer"] = reinterpret_cast<std::int64_t>(layer);
    return at::conv2d(x, weight, bias, stride, padding);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1];
    const auto g = grad_outputs[0].contiguous();
    const auto stride = ctx->saved_data["stride"].toIntVector();
    const auto padding = ctx->saved_data["padding"].toIntVector();
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const std::vector<std::int64_t> dilation{1, 1};
    torch::Tensor grad_x;
    if (ctx->needs_input_grad(0)) {
      grad_x = std::get<0>(at::convolution_backward(g, x, weight, std::nullopt, stride, padding, dilation,
                                                    /*transposed=*/false, {0, 0}, /*groups=*/1, {true, false, false}));
    }
    const auto batch = x.size(0);
    torch::Tensor weight_sample, bias_sample;
    if (batch == 0) {
      auto shape = weight.sizes().vec();
      shape.insert(shape.begin(), 0);
      weight_sample = torch::zeros(shape, weight.options());
      bias_sample = torch::zeros({0, weight.size(0)}, weight.options());
    } else {
      const auto patches = at::im2col(x, {weight.size(2), weight.size(3)}, dilation, padding, stride);
      weight_sample = at::bmm(g.flatten(2), patches.transpose(1, 2)).view(
          {batch, weight.size(0), weight.size(1), weight.size(2), weight.size(3)});
      bias_sample = g.sum({2, 3});
    }
    layer_of(ctx)->add_grad_samples(weight_sample, has_bias ? bias_sample : torch::Tensor());
    return {grad_x, weight_sample.sum(0), has_bias ? bias_sample.sum(0) : torch::Tensor(), {}, {}, {}};
  }
};

// y = x Wᵀ + b over the last dimension. Per sample: dW_i = Σ_positions g ⊗ x, db_i = Σ_positions g.
struct LinearFunction : torch::autograd::Function<LinearFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const std::optional<torch::Tensor>& bias, PerSampleLayer* layer) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["has_bias"] = bias.has_value();
    ctx->saved_data["layer"] = reinterpret_cast<std::int64_t>(layer);
    return at::linear(x, weight, bias);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1];
    const auto& g = grad_outputs[0];
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const auto batch = x.size(0);
    const auto x3 = x.reshape({batch, -1, weight.size(1)});
    const auto g3 = g.reshape({batch, -1, weight.size(0)});
    const auto weight_sample = at::bmm(g3.transpose(1, 2), x3);  // (B, out, in)
    const auto bias_sample = g3.sum(1);
    layer_of(ctx)->add_grad_samples(weight_sample, has_bias ? bias_sample : torch::Tensor());
    torch::Tensor grad_x;
    if (ctx->needs_input_grad(0)) grad_x = g.matmul(weight);
    return {grad_x, weight_sample.sum(0), has_bias ? bias_sample.sum(0) : torch::Tensor(), {}};
  }
};

// Custom functions take an optional bias: an undefined tensor cannot be an autograd input.
std::optional<torch::Tensor> optional_bias(const torch::Tensor& bias) {
  return bias.defined() ? std::optional<torch::Tensor>(bias) : std::nullopt;
}

std::vector<std::int64_t> explicit_padding(const torch::nn::Conv2dOptions& options) {
  const auto* padding = std::get_if<torch::ExpandingArray<2>>(&options.padding());
  TORCH_CHECK(padding, "PerSampleConv2d: padding must be given as numbers (not kValid/kSame)");
  return {(**padding)[0], (**padding)[1]};
}

// The same initialisation as LibTorch's layers (kaiming-uniform weights, uniform biases), drawing from the
// global generator in the same order, so that swapping a LibTorch layer for one of these changes nothing.
void reset_like_libtorch(torch::Tensor& weight, torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const auto [fan_in, fan_out] = torch::nn::init::_calculate_fan_in_and_fan_out(weight);
    const double bound = 1 / std::sqrt(static_cast<double>(fan_in));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

}  // namespace

void PerSampleLayer::add_grad_samples(const torch::Tensor& weight, const torch::Tensor& bias) {
  weight_sample_ = weight_sample_.defined() ? weight_sample_ + weight : weight;
  if (bias.defined()) bias_sample_ = bias_sample_.defined() ? bias_sample_ + bias : bias;
}

PerSampleConv2dImpl::PerSampleConv2dImpl(torch::nn::Conv2dOptions options_) : options(std::move(options_)) {
  TORCH_CHECK(options.groups() == 1 && (*options.dilation())[0] == 1 && (*options.dilation())[1] == 1,
              "PerSampleConv2d: only groups = 1 and dilation = 1 are implemented");
  TORCH_CHECK(std::holds_alternative<torch::enumtype::kZeros>(options.padding_mode()),
              "PerSampleConv2d: only zero padding is implemented");
  explicit_padding(options);
  weight = register_parameter("weight", torch::empty({options.out_channels(), options.in_channels(),
                                                      (*options.kernel_size())[0], (*options.kernel_size())[1]}));
  if (options.bias()) bias = register_parameter("bias", torch::empty({options.out_channels()}));
  reset_like_libtorch(weight, bias);
}

torch::Tensor PerSampleConv2dImpl::forward(const torch::Tensor& x) {
  const std::vector<std::int64_t> stride{(*options.stride())[0], (*options.stride())[1]};
  if (!capture_) return at::conv2d(x, weight, bias, stride, explicit_padding(options));
  return Conv2dFunction::apply(x, weight, optional_bias(bias), stride, explicit_padding(options), static_cast<PerSampleLayer*>(this));
}

std::vector<std::pair<torch::Tensor, torch::Tensor>> PerSampleConv2dImpl::grad_samples() {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> out{{weight, weight_sample_}};
  if (bias.defined()) out.emplace_back(bias, bias_sample_);
  return out;
}

PerSampleLinearImpl::PerSampleLinearImpl(torch::nn::LinearOptions options_) : options(std::move(options_)) {
  weight = register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  if (options.bias()) bias = register_parameter("bias", torch::empty({options.out_features()}));
  reset_like_libtorch(weight, bias);
}

torch::Tensor PerSampleLinearImpl::forward(const torch::Tensor& x) {
  if (!capture_) return at::linear(x, weight, bias);
  return LinearFunction::apply(x, weight, optional_bias(bias), static_cast<PerSampleLayer*>(this));
}

std::vector<std::pair<torch::Tensor, torch::Tensor>> PerSampleLinearImpl::grad_samples() {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> out{{weight, weight_sample_}};
  if (bias.defined()) out.emplace_back(bias, bias_sample_);
  return out;
}

std::vector<PerSampleLayer*> per_sample_layers(torch::nn::Module& module) {
  std::vector<PerSampleLayer*> out;
  for (const auto& child : module.modules(/*include_self=*/true)) {
    if (auto* layer = dynamic_cast<PerSampleLayer*>(child.get())) out.push_back(layer);
  }
  return out;
}

}  // namespace ganleaks::privacy
