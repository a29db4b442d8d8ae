#pragma once
// Model-extraction defenses of "Stealing GANs" (Hu & Pang, ACSAC 2021, Sec. 8 and appendix A.5): the target
// owner answers each attacker query (a latent z) with a perturbed answer, so that the attacker learns less of
// the target's distribution.
//
// Input perturbation (latents (B, z_dim) -> (B, z_dim)):
//   linear interpolation    z' = (1 - s) z + s p, p a latent from the owner's secret pool;
//   semantic interpolation  z' = z + m n_h, n_h the unit normal of a linear-SVM hyperplane that separates the
//                           latents of high and low semantic score (InterFaceGAN, Shen et al. CVPR 2020).
// Output perturbation (images (B, C, H, W) in [-1, 1] -> same shape, always clamped to [-1, 1]):
//   Gaussian noise, Gaussian filter, JPEG compression, adversarial noise (L∞ PGD, Madry et al. ICLR 2018;
//   FGSM for one step, Goodfellow et al. ICLR 2015).
//
// Every function is pure: no hidden state, inputs never modified, randomness only through the at::Generator
// argument, and strength 0 is the identity. Tensors are checked with TORCH_CHECK (c10::Error); strengths
// out of range throw std::invalid_argument naming the value.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace ganleaks::extraction {

// ---- Input perturbation -------------------------------------------------------------------------------

// z' = (1 - s) z + s partners; z, partners (B, z_dim) floating point, s in [0, 1] (s = 0: z, s = 1: partners).
at::Tensor linear_interpolation(const at::Tensor& z, const at::Tensor& partners, double strength);

// LIBLINEAR's stopping tolerance for the semantic SVM: scikit-learn's LinearSVC default (tol = 1e-4), so
// that both libraries stop at the same point; LIBLINEAR's dual solver stops after 1000 passes at the latest.
inline constexpr double kSemanticSvmTolerance = 1e-4;
// The C library's rand() is reseeded with this before every fit (LIBLINEAR's dual solver shuffles with
// rand()); 1 is also glibc's state at program start.
inline constexpr unsigned kSemanticSvmShuffleSeed = 1;

// A fitted semantic hyperplane {z : normal·z + offset = 0}, from LIBLINEAR's w·z + b = 0 divided by |w|.
struct SemanticHyperplane {
  at::Tensor normal;         // (z_dim) float32, w / |w|, pointing towards higher scores
  double offset = 0;         // b / |w| (b: the weight of the bias feature)
  double train_accuracy = 0; // fraction of the 2k labelled latents on the right side
  int iterations = 0;        // passes of LIBLINEAR's dual coordinate descent
  bool converged = false;    // false when LIBLINEAR hit its iteration limit before the tolerance
};

// Finding a semantic hyperplane (Hu & Pang A.5.1): label the k highest-scored latents +1 and the k lowest
// -1 (stable order, ties by index), fit a linear SVM with LIBLINEAR (Fan et al. JMLR 2008; L2-regularised
// L2-loss SVC in the dual, solver L2R_L2LOSS_SVC_DUAL — scikit-learn's LinearSVC — with cost C = svm_c and a
// bias feature of value 1, regularised like the other weights). latents (N, z_dim), scores (N), 1 <= k and
// 2k <= N (std::invalid_argument otherwise), svm_c > 0.
// Deterministic: every fit runs under one process-wide mutex and first calls srand(kSemanticSvmShuffleSeed),
// so the same inputs give bitwise the same hyperplane. Side effect: the C library's rand() sequence restarts
// (nothing in ganleaks uses rand(); code in other threads that does could still interleave with a fit).
// LIBLINEAR's console output is silenced (its print hook is process-wide and set for the fit only).
SemanticHyperplane fit_semantic_hyperplane(const at::Tensor& latents, const at::Tensor& scores, std::int64_t k,
                                           double svm_c = 1.0);

// The hyperplane's unit normal (z_dim) float32, oriented so that moving along it raises the score. Logs a
// warning when LIBLINEAR did not converge.
at::Tensor semantic_direction(const at::Tensor& latents, const at::Tensor& scores, std::int64_t k, double svm_c = 1.0);

// z'_i = z_i + magnitude * directions[which_i]; z (B, z_dim), directions (H, z_dim) unit normals, which (B)
// int64 in [0, H). The paper moves by magnitude 3 (A.1).
at::Tensor semantic_interpolation(const at::Tensor& z, const at::Tensor& directions, const at::Tensor& which,
                                  double magnitude);

// ---- Output perturbation ------------------------------------------------------------------------------

// clamp(x + N(0, std^2) per pixel, -1, 1); the noise is drawn from `generator` (a CPU stream) and moved to x's
// device, std >= 0.
at::Tensor gaussian_noise(const at::Tensor& x, double std, at::Generator& generator);

// The normalised 1-D Gaussian kernel of the filter: weights exp(-i^2 / (2 sigma^2)) for i = -r..r, r =
// ceil(3 sigma), divided by their sum; float64, 2r + 1 entries ([1] for sigma = 0).
at::Tensor gaussian_kernel(double sigma);

// Separable Gaussian blur of every channel (rows, then columns) with gaussian_kernel(sigma). Edges by
// half-sample symmetric reflection, "d c b a | a b c d | d c b a" (scipy.ndimage's mode 'reflect'; repeated
// for kernels wider than the image). sigma >= 0; 0 is the identity.
at::Tensor gaussian_filter(const at::Tensor& x, double sigma);

// Pixels in [-1, 1] <-> uint8: round((x + 1) * 127.5) (x clamped first, ties to even), and v / 127.5 - 1.
at::Tensor to_uint8_pixels(const at::Tensor& x);
at::Tensor from_uint8_pixels(const at::Tensor& v);

// Every image encoded to baseline JPEG with libjpeg-turbo's TurboJPEG API at `quality` in [1, 100] and
// decoded back. C = 1: grayscale (TJSAMP_GRAY); C = 3: RGB without chroma subsampling (TJSAMP_444, so that
// quality alone sets the loss); other channel counts are refused. Accurate integer DCT both ways
// (TJFLAG_ACCURATEDCT: TurboJPEG would otherwise switch to the fast DCT below quality 96). Runs on the CPU;
// the result is on x's device. TurboJPEG errors throw std::runtime_error with tjGetErrorStr2's text.
at::Tensor jpeg_compression(const at::Tensor& x, int quality);

// Untargeted L∞ PGD against a classifier: maximise the cross-entropy of logits(x') w.r.t. the class the
// classifier predicts on the clean x, x'_{t+1} = clip_[-1,1](clip_{x±ε}(x'_t + α sign(∇ CE))), x'_0 = x (no
// random start), α = 2.5 ε / steps; steps = 1 is FGSM, x' = clip_[-1,1](x + ε sign(∇ CE)). `logits` maps
// (B, C, H, W) images to (B, classes) and must be differentiable (put the classifier in eval mode). Gradients
// are taken w.r.t. the images only (torch::autograd::grad): nothing accumulates in the classifier's .grad.
// Works under an outer torch::NoGradGuard (autograd is enabled inside), not under c10::InferenceMode.
// epsilon >= 0 (0: the identity, the classifier is not called), steps >= 1.
at::Tensor adversarial_noise(const at::Tensor& x, const std::function<at::Tensor(const at::Tensor&)>& logits,
                             double epsilon, int steps);

}  // namespace ganleaks::extraction
