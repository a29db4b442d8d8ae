#pragma once
// Optimisation-based reconstruction attacks (GAN-Leaks Sec. 5.3, 5.4): R(x|G) = G(z*) with
//   z* = argmin_z  L(x, G(z)) + lambda_reg * (||z||^2 - dim z)^2,   L = MSE + lambda_lpips * P
// with P a perceptual distance (attacks/perceptual.h: LPIPS, or its offline stand-in)
// and the attack's loss L(x, G(z*)) (the regulariser only steers the search; SPEC §1).
//  - white box (`wb`): L-BFGS with gradients through the generator, best of several random starts;
//  - partial black box (`pbb`): Powell's method on generator outputs only, no gradients.
// Both run a block of queries at once (attacks/latent_search.h): results per query do not depend on the
// other queries of the block. The generator is used in eval mode and is not changed.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "attacks/latent_search.h"
#include "attacks/perceptual.h"
#include "models/networks.h"

namespace ganleaks::attacks {

struct ReconstructionLoss {
  double lambda_reg = 0.001;
  const PerceptualDistance* perceptual = nullptr;  // with lambda_lpips > 0
  double lambda_lpips = 0;
};

struct Reconstruction {
  std::vector<double> loss;               // L(x, G(z*)) = MSE (float64) + lambda_lpips * P
  std::vector<std::int64_t> evaluations;  // generator evaluations per query (all restarts)
};

// Per-query search objective for queries (Q, D) flattened: L(x_i, G(z_i)) + lambda_reg (||z_i||^2 - d)^2.
LatentObjective reconstruction_objective(models::GeneratorBase& generator, const at::Tensor& queries,
                                         const ReconstructionLoss& loss);

// starts: one (Q, z_dim) tensor per restart; the restart with the lowest loss wins per query.
Reconstruction reconstruct_white_box(models::GeneratorBase& generator, const at::Tensor& queries,
                                     const std::vector<at::Tensor>& starts, const ReconstructionLoss& loss,
                                     const LbfgsOptions& options);

Reconstruction reconstruct_partial_black_box(models::GeneratorBase& generator, const at::Tensor& queries,
                                             const at::Tensor& start, const ReconstructionLoss& loss,
                                             const PowellOptions& options);

}  // namespace ganleaks::attacks
