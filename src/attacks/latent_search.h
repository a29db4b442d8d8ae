#pragma once
// Batched latent optimisation for the reconstruction attacks (GAN-Leaks Sec. 5.3-5.4): find, for every
// query at once, z* = argmin_z f_i(z). The objective returns one loss per row and must be row-independent
// (loss i depends on row i of z only); every per-query decision below (step length, direction update,
// convergence) is taken per row, so a query's result does not depend on which other queries share its
// batch, up to the floating-point effect of the batch size on the objective's kernels (tested).
//
//  - lbfgs_batched: white-box. L-BFGS (Nocedal & Wright, Alg. 7.4/7.5) with a per-query weak-Wolfe
//    bisection line search (Lewis & Overton) on gradients from autograd.
//  - powell_batched: partial black-box. Powell's conjugate-direction method (Numerical Recipes 10.7, as
//    scipy's `Powell`) with per-query direction sets. Each line minimisation is either a golden-section
//    search with a fixed number of evaluations on [-bracket, +bracket] (all queries in lock step), or
//    scipy's unbounded bracket-then-Brent search (attacks/line_search.h; evaluations differ per query, and
//    each round's requests of all queries are one objective call). Objective values only: no gradients.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace ganleaks::attacks {

// objective(z, rows): z (R, d) holds the current latents of queries `rows` (R indices into the batch, in
// order); returns their R losses. The searches evaluate only the queries that still need it, hence `rows`.
// For lbfgs_batched it must be differentiable in z.
using LatentObjective = std::function<at::Tensor(const at::Tensor& z, const at::Tensor& rows)>;

struct LatentSearchResult {
  at::Tensor z;                            // (Q, d) best latents found
  at::Tensor loss;                         // (Q) objective at z
  std::vector<std::int64_t> evaluations;   // objective evaluations spent per query
};

// Called now and then during a search with the fraction of its work done so far (for progress logs).
using SearchProgress = std::function<void(double fraction)>;

struct LbfgsOptions {
  int max_evaluations = 1000;  // per query (the reference code's max_eval)
  int history = 20;
  int max_line_search = 25;    // evaluations per line search
  double tolerance_grad = 1e-7;    // stop when max |g| falls below
  double tolerance_change = 1e-9;  // stop when the loss changes less than this in an iteration
  SearchProgress progress = {};    // after every iteration: the largest share of the budget any query used
};

LatentSearchResult lbfgs_batched(const LatentObjective& objective, const at::Tensor& z0, const LbfgsOptions& options);

enum class LineSearch { kGolden, kBrent };

struct PowellOptions {
  int max_iterations = 10;   // sweeps over all directions (the reference code's maxiter)
  LineSearch line_search = LineSearch::kGolden;
  int line_evaluations = 10; // kGolden: evaluations per line minimisation
  double bracket = 1.0;      // kGolden: each line search looks at steps in [-bracket, +bracket] along the direction
  double brent_tolerance = 1e-2;  // kBrent: relative tolerance on the step (scipy's Powell: xtol * 100)
  SearchProgress progress = {};  // after every direction of every sweep
};

LatentSearchResult powell_batched(const LatentObjective& objective, const at::Tensor& z0, const PowellOptions& options);

}  // namespace ganleaks::attacks
