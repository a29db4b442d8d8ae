#include "privacy/grad_sample.h"

#include <torch/autograd.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ganleaks::privacy {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

PerSampleLayer* layer_of(AutogradContext* ctx) {
  return reinterpret_cast<PerSampleLayer*>(ctx->saved_data["layer"].toInt());
}

// The forward records the layer and its clipping mode (set_capture may change before the backward runs).
void save_layer(AutogradContext* ctx, PerSampleLayer* layer) {
  ctx->saved_data["layer"] = reinterpret_cast<std::int64_t>(layer);
  ctx->saved_data["clipping"] = static_cast<std::int64_t>(layer->clipping());
}
Clipping clipping_of(AutogradContext* ctx) { return static_cast<Clipping>(ctx->saved_data["clipping"].toInt()); }

// Whether the ghost norm of a per-sample gradient Σ_l g_l a_lᵀ (out × in, summed over `positions`) takes fewer
// multiplications than materialising it: positions² · (in + out) against positions · in · out, the layerwise
// choice of mixed ghost clipping (Bu et al. 2022). Book-keeping and ghost clipping materialise the layers where
// it is not.
bool ghost_norm_is_cheaper(std::int64_t positions, std::int64_t in, std::int64_t out) {
  return positions * (in + out) < in * out;
}

// The ghost norm (Li et al. 2022): each sample's ‖Σ_l g_l a_lᵀ‖²_F = Σ_{l,l'} (g_l·g_l')(a_l·a_l') from two L × L
// Gram matrices, for g: (B, L, out), a: (B, L, in), plus ‖Σ_l g_l‖² when the layer has a bias; float64, (B,).
at::Tensor ghost_squared_norms(const at::Tensor& g, const at::Tensor& a, bool has_bias) {
  if (g.size(0) == 0) return at::zeros({0}, g.options().dtype(at::kDouble));
  auto squared = (at::bmm(g, g.transpose(1, 2)) * at::bmm(a, a.transpose(1, 2))).sum({1, 2});
  if (has_bias) squared = squared + g.sum(1).square().sum(1);
  return squared.to(at::kDouble);
}

// Each row's squared gradient norm over a layer's weight and bias, from materialised per-row gradients (bias
// undefined if none); computed per parameter in the gradients' dtype, without a copy, and summed in float64.
at::Tensor materialised_squared_norms(const at::Tensor& weight_sample, const at::Tensor& bias_sample) {
  auto squared = at::zeros({weight_sample.size(0)}, weight_sample.options().dtype(at::kDouble));
  for (const auto& s : {weight_sample, bias_sample}) {
    if (s.defined()) squared += at::linalg_vector_norm(s.flatten(1), 2, {1}).to(at::kDouble).square();
  }
  return squared;
}

// unfold(x) in im2col's layout, (B, C·kh·kw, L), for a block of samples at a time: x is padded once, then each
// block is one index_select of every patch element's offset in the padded plane, per (sample, channel) row. On
// the CPU 2–4x faster than at::im2col or a copy of strided unfold views for the discriminator's layers
// (measured for bench_dp's shapes); an exact copy either way.
class Patches {
 public:
  Patches(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef padding, at::IntArrayRef stride)
      : x_(x), padding_(padding.vec()), rows_per_sample_(x.size(1) * kernel[0] * kernel[1]) {
    const auto height = x.size(2) + 2 * padding[0], width = x.size(3) + 2 * padding[1];
    const auto out_h = (height - kernel[0]) / stride[0] + 1, out_w = (width - kernel[1]) / stride[1] + 1;
    const auto options = x.options().dtype(at::kLong);
    // offset[kh, kw, i, j] = (stride_h·i + kh)·width + stride_w·j + kw
    const auto rows = at::arange(kernel[0], options).view({-1, 1, 1, 1}) +
                      (at::arange(out_h, options) * stride[0]).view({1, 1, -1, 1});
    const auto cols = at::arange(kernel[1], options).view({1, -1, 1, 1}) +
                      (at::arange(out_w, options) * stride[1]).view({1, 1, 1, -1});
    offset_ = (rows * width + cols).flatten();
  }
  // Samples [start, end): (end − start, C·kh·kw, L); padded a block at a time, which keeps the peak lower.
  at::Tensor block(std::int64_t start, std::int64_t end) const {
    const auto padded = at::constant_pad_nd(x_.slice(0, start, end), {padding_[1], padding_[1], padding_[0], padding_[0]});
    return padded.flatten(0, 1).flatten(1).index_select(1, offset_).view({end - start, rows_per_sample_, -1});
  }

 private:
  at::Tensor x_, offset_;
  std::vector<std::int64_t> padding_;
  std::int64_t rows_per_sample_;
};

// Rows per block when a backward gathers patches: the whole batch's patches are k·k/stride² times the layer's
// input (4x for the discriminator's), so they are gathered, used and dropped a block of about 1 MiB of floats
// at a time (less peak memory, and the block stays in cache for the product that reads it).
std::int64_t rows_per_block(std::int64_t elements_per_row) {
  return std::max<std::int64_t>(1, (std::int64_t{1} << 18) / std::max<std::int64_t>(1, elements_per_row));
}

// y = conv2d(x, w, b). Backward: the input gradient as LibTorch computes it, and per sample i
// dW_i = g_i · unfold(x_i)ᵀ (g_i: (C_out, L) output gradient, unfold(x_i): (C_in·k·k, L) input patches),
// db_i = Σ_L g_i, materialised or, by book-keeping where cheaper, only their norm.
struct Conv2dFunction : torch::autograd::Function<Conv2dFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const std::optional<torch::Tensor>& bias, std::vector<std::int64_t> stride,
                               std::vector<std::int64_t> padding, PerSampleLayer* layer) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["has_bias"] = bias.has_value();
    save_layer(ctx, layer);
    return at::conv2d(x, weight, bias, stride, padding);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1];
    const auto g = grad_outputs[0].contiguous();
    const auto stride = ctx->saved_data["stride"].toIntVector();
    const auto padding = ctx->saved_data["padding"].toIntVector();
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const auto batch = x.size(0);
    const auto positions = g.size(2) * g.size(3), patch_size = weight[0].numel();
    const auto rows = rows_per_block(positions * patch_size);
    const Patches patches(x, weight.sizes().slice(2), padding, stride);
    // The input gradient first: its convolution's temporaries are gone before the per-sample part allocates.
    variable_list grads(6);
    if (ctx->needs_input_grad(0)) {
      grads[0] = std::get<0>(at::convolution_backward(g, x, weight, std::nullopt, stride, padding, /*dilation=*/{1, 1},
                                                      /*transposed=*/false, {0, 0}, /*groups=*/1, {true, false, false}));
    }
    const auto clipping = clipping_of(ctx);
    // Rows [start, end)'s weight gradients, (rows, C_out, C_in·k·k), into `out`.
    const auto weight_samples = [&](std::int64_t start, std::int64_t end, at::Tensor out) {
      at::bmm_out(out, g.slice(0, start, end).flatten(2), patches.block(start, end).transpose(1, 2));
    };
    if (clipping != Clipping::kMaterialise && ghost_norm_is_cheaper(positions, patch_size, weight.size(0))) {
      // No weight gradient here: the DP step computes the clipped one from x and g.
      auto norms = torch::empty({batch}, g.options().dtype(torch::kFloat64));
      for (std::int64_t start = 0; start < batch; start += rows) {
        const auto end = std::min(batch, start + rows);
        norms.slice(0, start, end).copy_(ghost_squared_norms(g.slice(0, start, end).flatten(2).transpose(1, 2),
                                                             patches.block(start, end).transpose(1, 2), has_bias));
      }
      layer_of(ctx)->keep_norms(x, g, norms);
    } else if (clipping == Clipping::kGhost) {
      // Each block's gradients live only until their norms are taken; the clipped sum is computed as above.
      auto norms = torch::empty({batch}, g.options().dtype(torch::kFloat64));
      for (std::int64_t start = 0; start < batch; start += rows) {
        const auto end = std::min(batch, start + rows);
        const auto weight_block = torch::empty({end - start, weight.size(0), patch_size}, weight.options());
        weight_samples(start, end, weight_block);
        const auto bias_block = has_bias ? g.slice(0, start, end).sum({2, 3}) : at::Tensor();
        norms.slice(0, start, end).copy_(materialised_squared_norms(weight_block, bias_block));
      }
      layer_of(ctx)->keep_norms(x, g, norms);
    } else {
      const auto weight_sample = torch::empty({batch, weight.size(0), patch_size}, weight.options());
      for (std::int64_t start = 0; start < batch; start += rows) {
        weight_samples(start, std::min(batch, start + rows), weight_sample.slice(0, start, std::min(batch, start + rows)));
      }
      const auto bias_sample = g.sum({2, 3});
      auto shape = weight.sizes().vec();
      shape.insert(shape.begin(), batch);
      layer_of(ctx)->add_grad_samples(weight_sample.view(shape), has_bias ? bias_sample : torch::Tensor());
      // Under book-keeping the DP step's clipped sum is the only weight gradient: no summed one.
      if (clipping == Clipping::kMaterialise) {
        grads[1] = weight_sample.sum(0).view(weight.sizes());
        if (has_bias) grads[2] = bias_sample.sum(0);
      }
    }
    return grads;
  }
};

// y = x Wᵀ + b over the last dimension. Per sample: dW_i = Σ_positions g ⊗ x, db_i = Σ_positions g.
struct LinearFunction : torch::autograd::Function<LinearFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const std::optional<torch::Tensor>& bias, PerSampleLayer* layer) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["has_bias"] = bias.has_value();
    save_layer(ctx, layer);
    return at::linear(x, weight, bias);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1];
    const auto& g = grad_outputs[0];
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const auto batch = x.size(0);
    // (B, positions, features); `batch` and not -1 first, which a batch of 0 rows could not infer.
    const auto positions = batch == 0 ? 0 : x.numel() / (batch * weight.size(1));
    const auto x3 = x.reshape({batch, positions, weight.size(1)});
    const auto g3 = g.reshape({batch, positions, weight.size(0)});
    torch::Tensor grad_x;
    if (ctx->needs_input_grad(0)) grad_x = g.matmul(weight);
    const auto clipping = clipping_of(ctx);
    if (clipping != Clipping::kMaterialise && ghost_norm_is_cheaper(positions, weight.size(1), weight.size(0))) {
      layer_of(ctx)->keep_norms(x, g, ghost_squared_norms(g3, x3, has_bias));
      return {grad_x, {}, {}, {}};
    }
    const auto weight_sample = at::bmm(g3.transpose(1, 2), x3);  // (B, out, in)
    const auto bias_sample = has_bias ? g3.sum(1) : torch::Tensor();
    if (clipping == Clipping::kGhost) {  // one block: a linear layer's rows' gradients are small
      layer_of(ctx)->keep_norms(x, g, materialised_squared_norms(weight_sample, bias_sample));
      return {grad_x, {}, {}, {}};
    }
    layer_of(ctx)->add_grad_samples(weight_sample, bias_sample);
    if (clipping == Clipping::kBookKeeping) return {grad_x, {}, {}, {}};
    return {grad_x, weight_sample.sum(0), has_bias ? bias_sample.sum(0) : torch::Tensor(), {}};
  }
};

// A layer's parameters, or their gradients, in per_sample_parameters()'s order: weight, then bias if defined.
std::vector<torch::Tensor> weight_and_bias(const torch::Tensor& weight, const torch::Tensor& bias) {
  return bias.defined() ? std::vector<torch::Tensor>{weight, bias} : std::vector<torch::Tensor>{weight};
}

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

std::vector<std::pair<torch::Tensor, torch::Tensor>> PerSampleLayer::grad_samples() const {
  const auto params = per_sample_parameters();
  std::vector<std::pair<torch::Tensor, torch::Tensor>> out{{params[0], weight_sample_}};
  if (params.size() > 1) out.emplace_back(params[1], bias_sample_);
  return out;
}

void PerSampleLayer::add_grad_samples(const torch::Tensor& weight, const torch::Tensor& bias) {
  weight_sample_ = weight_sample_.defined() ? weight_sample_ + weight : weight;
  if (bias.defined()) bias_sample_ = bias_sample_.defined() ? bias_sample_ + bias : bias;
}

void PerSampleLayer::keep_norms(const torch::Tensor& input, const torch::Tensor& grad_output,
                                const torch::Tensor& squared_norms) {
  // A second backward would need the cross terms of the two gradients' norms, which are not kept.
  if (squared_norms_.defined()) {
    throw std::logic_error("DP-SGD book-keeping or ghost clipping: a layer ran two captured backwards in one step "
                           "(Clipping::kMaterialise adds several up)");
  }
  input_ = input;
  grad_output_ = grad_output;
  squared_norms_ = squared_norms;
}

void PerSampleLayer::clear_grad_samples() {
  for (auto* t : {&weight_sample_, &bias_sample_, &input_, &grad_output_, &squared_norms_}) *t = torch::Tensor();
}

torch::Tensor PerSampleLayer::squared_norms() const {
  return squared_norms_.defined() ? squared_norms_ : materialised_squared_norms(weight_sample_, bias_sample_);
}

std::vector<torch::Tensor> PerSampleLayer::clipped_sums(const torch::Tensor& factor) const {
  std::vector<torch::Tensor> out;
  if (!squared_norms_.defined()) {
    for (const auto& [param, s] : grad_samples()) out.push_back(at::tensordot(factor.to(s.scalar_type()), s, {0}, {0}));
    return out;
  }
  if (grad_output_.size(0) == 0) {
    for (const auto& param : per_sample_parameters()) out.push_back(torch::zeros_like(param));
    return out;
  }
  std::vector<std::int64_t> per_row(grad_output_.dim(), 1);  // factor as (B, 1, ..., 1)
  per_row[0] = -1;
  return parameter_gradients(input_, grad_output_ * factor.to(grad_output_.scalar_type()).view(per_row));
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

std::vector<torch::Tensor> PerSampleConv2dImpl::per_sample_parameters() const { return weight_and_bias(weight, bias); }

std::vector<torch::Tensor> PerSampleConv2dImpl::parameter_gradients(const torch::Tensor& input,
                                                                    const torch::Tensor& grad_output) const {
  const std::vector<std::int64_t> stride{(*options.stride())[0], (*options.stride())[1]};
  const auto bias_sizes = bias.defined() ? at::OptionalIntArrayRef(bias.sizes()) : at::OptionalIntArrayRef();
  const auto grads = at::convolution_backward(grad_output, input, weight, bias_sizes, stride, explicit_padding(options),
                                              /*dilation=*/{1, 1}, /*transposed=*/false, {0, 0}, /*groups=*/1,
                                              {false, true, bias.defined()});
  return weight_and_bias(std::get<1>(grads), std::get<2>(grads));  // no bias: std::get<2> is undefined
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

std::vector<torch::Tensor> PerSampleLinearImpl::per_sample_parameters() const { return weight_and_bias(weight, bias); }

std::vector<torch::Tensor> PerSampleLinearImpl::parameter_gradients(const torch::Tensor& input,
                                                                    const torch::Tensor& grad_output) const {
  const auto x = input.reshape({-1, weight.size(1)}), g = grad_output.reshape({-1, weight.size(0)});
  return weight_and_bias(g.t().mm(x), bias.defined() ? g.sum(0) : torch::Tensor());
}

std::vector<PerSampleLayer*> per_sample_layers(torch::nn::Module& module) {
  std::vector<PerSampleLayer*> out;
  for (const auto& child : module.modules(/*include_self=*/true)) {
    if (auto* layer = dynamic_cast<PerSampleLayer*>(child.get())) out.push_back(layer);
  }
  return out;
}

}  // namespace ganleaks::privacy
