#include "extraction/defenses.h"

#include <torch/torch.h>

#include <linear.h>
#include <turbojpeg.h>

#include <fmt/format.h>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/log.h"
#include "dist/device.h"

namespace ganleaks::extraction {
namespace {

bool is_float(const at::Tensor& t) {
  return t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble;
}

void check_latents(const at::Tensor& z, const char* function, const char* name) {
  TORCH_CHECK(z.defined() && z.dim() == 2 && is_float(z), function, ": ", name,
              " must be a float32/float64 tensor of shape (B, z_dim), got ",
              z.defined() ? z.sizes() : at::IntArrayRef{}, " ", z.defined() ? z.scalar_type() : at::kFloat);
}

void check_images(const at::Tensor& x, const char* function) {
  TORCH_CHECK(x.defined() && x.dim() == 4 && is_float(x), function,
              ": x must be a float32/float64 tensor of images (B, C, H, W), got ",
              x.defined() ? x.sizes() : at::IntArrayRef{}, " ", x.defined() ? x.scalar_type() : at::kFloat);
}

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

}  // namespace

// ---- Input perturbation -------------------------------------------------------------------------------

at::Tensor linear_interpolation(const at::Tensor& z, const at::Tensor& partners, double strength) {
  check_latents(z, "linear_interpolation", "z");
  check_latents(partners, "linear_interpolation", "partners");
  TORCH_CHECK(partners.sizes() == z.sizes(), "linear_interpolation: partners must have z's shape ", z.sizes(),
              ", got ", partners.sizes());
  require(strength >= 0 && strength <= 1,
          fmt::format("linear_interpolation: strength = {} must lie in [0, 1]", strength));
  return (1 - strength) * z + strength * partners.to(z.device(), z.scalar_type());
}

namespace {

// LIBLINEAR reports progress through one process-wide hook; during a fit it writes into this buffer.
std::mutex svm_mutex;
std::string svm_output;
void capture_svm_output(const char* text) { svm_output += text; }

struct ModelDeleter {
  void operator()(model* m) const { free_and_destroy_model(&m); }
};

}  // namespace

SemanticHyperplane fit_semantic_hyperplane(const at::Tensor& latents, const at::Tensor& scores, std::int64_t k,
                                           double svm_c) {
  TORCH_CHECK(latents.defined() && latents.dim() == 2 && is_float(latents) && latents.size(1) >= 1,
              "semantic_direction: latents must be a float32/float64 tensor of shape (N, z_dim), got ",
              latents.defined() ? latents.sizes() : at::IntArrayRef{});
  const std::int64_t n = latents.size(0), z_dim = latents.size(1);
  TORCH_CHECK(scores.defined() && scores.dim() == 1 && scores.size(0) == n && is_float(scores),
              "semantic_direction: scores must be a float32/float64 tensor of shape (N) = (", n, "), got ",
              scores.defined() ? scores.sizes() : at::IntArrayRef{});
  require(k >= 1 && 2 * k <= n,
          fmt::format("semantic_direction: k = {} latents per side needs 1 <= k and 2k <= N = {}", k, n));
  require(2 * k <= INT_MAX && z_dim < INT_MAX, fmt::format("semantic_direction: k = {} is too large for LIBLINEAR", k));
  require(svm_c > 0 && std::isfinite(svm_c), fmt::format("semantic_direction: svm_c = {} must be > 0", svm_c));
  // host: LIBLINEAR fits the hyperplane on the CPU.
  const auto z = latents.detach().to(at::kCPU, at::kDouble).contiguous();
  const auto s = scores.detach().to(at::kCPU, at::kDouble).contiguous();
  TORCH_CHECK(z.isfinite().all().item<bool>() && s.isfinite().all().item<bool>(),
              "semantic_direction: latents and scores must be finite");

  // Stable descending order: among equal scores the lower index comes first.
  const auto order = std::get<1>(s.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  const auto rows = at::cat({order.slice(0, 0, k), order.slice(0, n - k, n)});
  const auto picked = z.index_select(0, rows).contiguous();
  const double* values = picked.data_ptr<double>();

  // One dense row per latent: features 1..z_dim, the bias feature z_dim + 1 of value 1, the terminator.
  const auto l = static_cast<int>(2 * k);
  const auto d = static_cast<int>(z_dim);
  std::vector<feature_node> nodes(static_cast<std::size_t>(l) * (d + 2));
  std::vector<feature_node*> x(l);
  std::vector<double> y(l);
  for (int i = 0; i < l; ++i) {
    feature_node* row = &nodes[static_cast<std::size_t>(i) * (d + 2)];
    for (int j = 0; j < d; ++j) row[j] = {.index = j + 1, .value = values[static_cast<std::size_t>(i) * d + j]};
    row[d] = {.index = d + 1, .value = 1.0};
    row[d + 1] = {.index = -1, .value = 0.0};
    x[i] = row;
    y[i] = i < k ? +1.0 : -1.0;
  }
  problem prob{};
  prob.l = l;
  prob.n = d + 1;
  prob.y = y.data();
  prob.x = x.data();
  prob.bias = 1.0;  // sklearn's intercept_scaling = 1
  parameter param{};
  param.solver_type = L2R_L2LOSS_SVC_DUAL;
  param.eps = kSemanticSvmTolerance;
  param.C = svm_c;
  param.p = 0.1;  // unused by classification solvers
#if LIBLINEAR_VERSION >= 240
  param.regularize_bias = 1;  // LIBLINEAR >= 2.40 can leave the bias out of the regulariser; sklearn keeps it in
#endif
  if (const char* error = check_parameter(&prob, &param)) {
    throw std::runtime_error(fmt::format("semantic_direction: LIBLINEAR refused the parameters: {}", error));
  }

  SemanticHyperplane plane;
  std::vector<double> w(d + 1);
  int positive_label = 0;
  {
    const std::lock_guard lock(svm_mutex);
    svm_output.clear();
    set_print_string_function(&capture_svm_output);
    std::srand(kSemanticSvmShuffleSeed);
    const std::unique_ptr<model, ModelDeleter> fitted(train(&prob, &param));
    set_print_string_function(nullptr);  // back to LIBLINEAR's default (stdout) for anyone else
    TORCH_CHECK(fitted && fitted->nr_class == 2, "semantic_direction: LIBLINEAR did not return a binary model");
    // w separates label[0] (the positive side of w·x + b) from the other class.
    positive_label = fitted->label[0];
    for (int j = 0; j <= d; ++j) w[j] = fitted->w[j];
    // The dual solver ends with "optimization finished, #iter = N", after a warning if it hit its limit.
    const auto found = svm_output.find("#iter = ");
    plane.iterations = found == std::string::npos ? 0 : std::atoi(svm_output.c_str() + found + 8);
    plane.converged = svm_output.find("reaching max number of iterations") == std::string::npos;
  }

  const double orientation = positive_label == 1 ? 1.0 : -1.0;
  // host: LIBLINEAR's weights; the caller moves the normal to its latents' device.
  auto normal = torch::from_blob(w.data(), {d}, torch::kDouble).clone() * orientation;
  const double norm = normal.norm().item<double>();
  TORCH_CHECK(norm > 0, "semantic_direction: the SVM's normal is zero (are all latents equal?)");
  plane.offset = orientation * w[d] / norm;
  normal = normal / norm;
  const auto margin = picked.matmul(normal) + plane.offset;
  const auto label = torch::from_blob(y.data(), {l}, torch::kDouble);
  plane.train_accuracy = (margin * label > 0).to(torch::kDouble).mean().item<double>();
  plane.normal = normal.to(torch::kFloat);
  return plane;
}

at::Tensor semantic_direction(const at::Tensor& latents, const at::Tensor& scores, std::int64_t k, double svm_c) {
  auto plane = fit_semantic_hyperplane(latents, scores, k, svm_c);
  if (!plane.converged) {
    log::warn(fmt::format("semantic_direction: LIBLINEAR stopped at its iteration limit ({} passes) before the "
                          "tolerance {}; the hyperplane is approximate (training accuracy {:.3f}; a smaller svm_c "
                          "converges faster)",
                          plane.iterations, kSemanticSvmTolerance, plane.train_accuracy));
  }
  return plane.normal;
}

at::Tensor semantic_interpolation(const at::Tensor& z, const at::Tensor& directions, const at::Tensor& which,
                                  double magnitude) {
  check_latents(z, "semantic_interpolation", "z");
  TORCH_CHECK(directions.defined() && directions.dim() == 2 && is_float(directions) &&
                  directions.size(1) == z.size(1) && directions.size(0) >= 1,
              "semantic_interpolation: directions must be a float tensor of shape (H, z_dim) = (H, ", z.size(1),
              "), got ", directions.defined() ? directions.sizes() : at::IntArrayRef{});
  TORCH_CHECK(which.defined() && which.dim() == 1 && which.size(0) == z.size(0) && which.scalar_type() == at::kLong,
              "semantic_interpolation: which must be an int64 tensor of shape (B) = (", z.size(0), "), got ",
              which.defined() ? which.sizes() : at::IntArrayRef{});
  require(std::isfinite(magnitude), fmt::format("semantic_interpolation: magnitude = {} must be finite", magnitude));
  if (which.numel() > 0) {
    const auto host = dist::to_host(which);
    const auto lo = host.min().item<std::int64_t>(), hi = host.max().item<std::int64_t>();
    TORCH_CHECK(lo >= 0 && hi < directions.size(0), "semantic_interpolation: which must lie in [0, H) = [0, ",
                directions.size(0), "), got values in [", lo, ", ", hi, "]");
  }
  const auto moves = directions.to(z.device(), z.scalar_type()).index_select(0, which.to(z.device()));
  return z + magnitude * moves;
}

// ---- Output perturbation ------------------------------------------------------------------------------

at::Tensor gaussian_noise(const at::Tensor& x, double std, at::Generator& generator) {
  check_images(x, "gaussian_noise");
  require(std >= 0 && std::isfinite(std), fmt::format("gaussian_noise: std = {} must be >= 0", std));
  // The stream is a CPU generator: drawn there, then moved (the same noise on every device).
  const auto noise = at::randn(x.sizes(), generator, x.options().device(at::kCPU)).to(x.device());
  return (x + std * noise).clamp(-1, 1);
}

at::Tensor gaussian_kernel(double sigma) {
  require(sigma >= 0 && std::isfinite(sigma), fmt::format("gaussian_filter: sigma = {} must be >= 0", sigma));
  // host: the kernel's taps are read on the host (blur_axis); only the images are on the device.
  if (sigma == 0) return torch::ones({1}, torch::kDouble);
  const auto radius = static_cast<std::int64_t>(std::ceil(3 * sigma));
  const auto i = torch::arange(-radius, radius + 1, torch::kDouble);
  const auto w = torch::exp(-i * i / (2 * sigma * sigma));
  return w / w.sum();
}

namespace {

// Source index of every position -r..n+r-1 under half-sample symmetric reflection (period 2n).
at::Tensor reflected_indices(std::int64_t n, std::int64_t radius, const at::Device& device) {
  std::vector<std::int64_t> index;
  index.reserve(n + 2 * radius);
  for (std::int64_t i = -radius; i < n + radius; ++i) {
    std::int64_t m = ((i % (2 * n)) + 2 * n) % (2 * n);
    index.push_back(m < n ? m : 2 * n - 1 - m);
  }
  return torch::tensor(index, torch::kLong).to(device);
}

// One axis of the separable blur: the reflected extension of `dim`, then the kernel's taps as shifted sums
// (a handful of fused passes, much faster on the CPU than a one-channel convolution).
at::Tensor blur_axis(const at::Tensor& x, const at::Tensor& kernel, std::int64_t dim) {
  const std::int64_t n = x.size(dim), size = kernel.size(0);
  const auto padded = x.index_select(dim, reflected_indices(n, size / 2, x.device()));
  const auto taps = kernel.accessor<double, 1>();
  auto out = padded.narrow(dim, 0, n) * taps[0];
  for (std::int64_t j = 1; j < size; ++j) out.add_(padded.narrow(dim, j, n), taps[j]);
  return out;
}

}  // namespace

at::Tensor gaussian_filter(const at::Tensor& x, double sigma) {
  check_images(x, "gaussian_filter");
  const auto kernel = gaussian_kernel(sigma);
  if (sigma == 0 || x.numel() == 0) return x.clamp(-1, 1);
  return blur_axis(blur_axis(x, kernel, 3), kernel, 2).clamp(-1, 1);
}

at::Tensor to_uint8_pixels(const at::Tensor& x) {
  TORCH_CHECK(x.defined() && is_float(x), "to_uint8_pixels: x must be a float32/float64 tensor");
  return ((x.clamp(-1, 1) + 1) * 127.5).round().to(at::kByte);
}

at::Tensor from_uint8_pixels(const at::Tensor& v) {
  TORCH_CHECK(v.defined() && v.scalar_type() == at::kByte, "from_uint8_pixels: v must be a uint8 tensor");
  return v.to(at::kFloat) / 127.5 - 1;
}

namespace {

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

[[noreturn]] void throw_turbojpeg(tjhandle handle, const char* call) {
  throw std::runtime_error(fmt::format("jpeg_compression: {} failed: {}", call, tjGetErrorStr2(handle)));
}

}  // namespace

at::Tensor jpeg_compression(const at::Tensor& x, int quality) {
  check_images(x, "jpeg_compression");
  TORCH_CHECK(x.size(1) == 1 || x.size(1) == 3,
              "jpeg_compression: x must have 1 (grayscale) or 3 (RGB) channels, shape (B, 1|3, H, W), got ", x.sizes());
  TORCH_CHECK(x.size(2) >= 1 && x.size(3) >= 1 && x.size(2) <= INT_MAX && x.size(3) <= INT_MAX,
              "jpeg_compression: images must be at least 1x1 pixels, got ", x.sizes());
  require(quality >= 1 && quality <= 100, fmt::format("jpeg_compression: quality = {} must lie in [1, 100]", quality));
  const std::int64_t b = x.size(0), channels = x.size(1);
  const int h = static_cast<int>(x.size(2)), w = static_cast<int>(x.size(3));
  const bool gray = channels == 1;
  const int pixel_format = gray ? TJPF_GRAY : TJPF_RGB;
  const int subsampling = gray ? TJSAMP_GRAY : TJSAMP_444;
  const int flags = TJFLAG_ACCURATEDCT;

  // (B, H, W, C) interleaved bytes, as TurboJPEG reads and writes them.
  // host: TurboJPEG compresses on the CPU; the result goes back to x's device.
  const auto source = to_uint8_pixels(x.detach().to(at::kCPU)).permute({0, 2, 3, 1}).contiguous();
  auto decoded = torch::empty_like(source);
  const TjHandle compressor(tjInitCompress());
  if (!compressor) throw_turbojpeg(nullptr, "tjInitCompress");
  const TjHandle decompressor(tjInitDecompress());
  if (!decompressor) throw_turbojpeg(nullptr, "tjInitDecompress");
  // One worst-case buffer for every image (TJFLAG_NOREALLOC: TurboJPEG writes into it, never reallocates).
  const unsigned long capacity = tjBufSize(w, h, subsampling);
  std::vector<unsigned char> jpeg(capacity);
  const std::size_t image_bytes = static_cast<std::size_t>(h) * w * channels;
  for (std::int64_t i = 0; i < b; ++i) {
    unsigned char* buffer = jpeg.data();
    unsigned long size = capacity;
    const unsigned char* in = source.data_ptr<std::uint8_t>() + i * image_bytes;
    if (tjCompress2(compressor.get(), in, w, 0, h, pixel_format, &buffer, &size, subsampling, quality,
                    flags | TJFLAG_NOREALLOC) != 0) {
      throw_turbojpeg(compressor.get(), "tjCompress2");
    }
    unsigned char* out = decoded.data_ptr<std::uint8_t>() + i * image_bytes;
    if (tjDecompress2(decompressor.get(), buffer, size, out, w, 0, h, pixel_format, flags) != 0) {
      throw_turbojpeg(decompressor.get(), "tjDecompress2");
    }
  }
  return from_uint8_pixels(decoded.permute({0, 3, 1, 2}).contiguous()).to(x.device(), x.scalar_type());
}

at::Tensor adversarial_noise(const at::Tensor& x, const std::function<at::Tensor(const at::Tensor&)>& logits,
                             double epsilon, int steps) {
  check_images(x, "adversarial_noise");
  require(epsilon >= 0 && std::isfinite(epsilon),
          fmt::format("adversarial_noise: epsilon = {} must be >= 0", epsilon));
  require(steps >= 1, fmt::format("adversarial_noise: steps = {} must be >= 1", steps));
  TORCH_CHECK(static_cast<bool>(logits), "adversarial_noise: logits must be a callable");
  if (epsilon == 0 || x.numel() == 0) return x.clamp(-1, 1);
  // FGSM takes its one step to the ball's surface; PGD's smaller steps (Madry et al.) let it turn.
  const double alpha = steps == 1 ? epsilon : 2.5 * epsilon / steps;
  const torch::AutoGradMode enable_grad(true);
  const auto center = x.detach();
  const auto lower = center - epsilon, upper = center + epsilon;
  at::Tensor adversarial = center, target;
  for (int step = 0; step < steps; ++step) {
    const auto input = adversarial.detach().requires_grad_(true);
    const auto out = logits(input);
    TORCH_CHECK(out.defined() && out.dim() == 2 && out.size(0) == x.size(0) && out.size(1) >= 2 && is_float(out),
                "adversarial_noise: logits must return a float tensor of shape (B, classes) = (", x.size(0),
                ", >= 2), got ", out.defined() ? out.sizes() : at::IntArrayRef{});
    if (step == 0) target = out.detach().argmax(1);  // the classifier's own prediction on the clean image
    const auto loss = torch::nn::functional::cross_entropy(
        out, target, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    TORCH_CHECK(loss.requires_grad(), "adversarial_noise: the logits are not differentiable w.r.t. the images "
                                      "(is the classifier run under NoGradGuard or detached?)");
    const auto grad = torch::autograd::grad({loss}, {input}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                            /*create_graph=*/false, /*allow_unused=*/true)[0];
    TORCH_CHECK(grad.defined(), "adversarial_noise: the logits do not depend on the images");
    adversarial = at::min(at::max(input.detach() + alpha * grad.sign(), lower), upper).clamp(-1, 1);
  }
  return adversarial;
}

}  // namespace ganleaks::extraction
