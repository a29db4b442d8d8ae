#include "attacks/latent_search.h"

#include <torch/torch.h>

#include "attacks/line_search.h"
#include "attacks/tensor_vectors.h"
#include "dist/device.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ganleaks::attacks {
namespace {

at::Tensor checked(const at::Tensor& loss, std::int64_t rows, const char* who) {
  TORCH_CHECK(loss.dim() == 1 && loss.size(0) == rows, who, ": the objective must return one loss per row (", rows,
              "), got shape ", loss.sizes());
  return loss;
}

struct ValueAndGrad {
  at::Tensor value, grad;
};

ValueAndGrad value_and_grad(const LatentObjective& objective, const at::Tensor& z, const at::Tensor& rows) {
  torch::AutoGradMode enable(true);
  auto leaf = z.detach().clone().requires_grad_(true);
  const auto loss = checked(objective(leaf, rows), z.size(0), "lbfgs_batched");
  auto grad = torch::autograd::grad({loss.sum()}, {leaf})[0];
  return {loss.detach(), grad.detach()};
}

// Rows of `mask` as an index tensor on its device. Found on the host: the row count decides what runs next, so
// the mask is read there anyway (as nonzero would).
at::Tensor rows_of(const at::Tensor& mask) { return dist::to_host(mask).nonzero().squeeze(1).to(mask.device()); }

void add_evaluations(std::vector<std::int64_t>& evaluations, const at::Tensor& rows) {
  const auto r = dist::to_host(rows);
  for (std::int64_t i = 0; i < r.numel(); ++i) ++evaluations[r.data_ptr<std::int64_t>()[i]];
}

at::Tensor row_dot(const at::Tensor& a, const at::Tensor& b) { return (a * b).sum(1); }

// Queries that may still spend evaluations.
at::Tensor under_budget(const std::vector<std::int64_t>& evaluations, int max_evaluations, const at::Device& device) {
  return torch::tensor(evaluations, torch::kInt64).to(device) < max_evaluations;
}

}  // namespace

LatentSearchResult lbfgs_batched(const LatentObjective& objective, const at::Tensor& z0, const LbfgsOptions& options) {
  TORCH_CHECK(z0.dim() == 2 && z0.size(0) > 0, "lbfgs_batched: expected (Q, d) latents, got ", z0.sizes());
  TORCH_CHECK(options.history > 0 && options.max_evaluations > 0 && options.max_line_search > 0,
              "lbfgs_batched: history, max_evaluations and max_line_search must be positive");
  constexpr double kArmijo = 1e-4, kCurvature = 0.9;  // Wolfe constants (Nocedal & Wright)
  const auto q_count = z0.size(0), dim = z0.size(1);
  const int m = options.history;
  auto z = z0.detach().to(torch::kFloat32).clone();
  const auto device = z.device();
  const auto real = z.options(), flags = z.options().dtype(torch::kBool);
  auto [f, g] = value_and_grad(objective, z, torch::arange(q_count, z.options().dtype(torch::kInt64)));
  std::vector<std::int64_t> evaluations(q_count, 1);

  // Ring of the last m curvature pairs; rho = 0 marks a slot that holds nothing for that query.
  auto S = torch::zeros({m, q_count, dim}, real), Y = torch::zeros({m, q_count, dim}, real);
  auto rho = torch::zeros({m, q_count}, real);
  auto gamma = torch::ones({q_count}, real);  // initial Hessian scaling s'y / y'y of the newest pair
  auto first = torch::ones({q_count}, flags);
  auto active = g.abs().amax(1) > options.tolerance_grad;
  const auto inf = std::numeric_limits<float>::infinity();

  for (std::int64_t k = 0; dist::host_bool(active.any()); ++k) {
    // Two-loop recursion: direction = -H g, per query.
    auto q = g.clone();
    std::vector<at::Tensor> alpha(m);
    for (std::int64_t j = k - 1; j >= std::max<std::int64_t>(0, k - m); --j) {
      const auto s = j % m;
      alpha[s] = rho[s] * row_dot(S[s], q);
      q -= alpha[s].unsqueeze(1) * Y[s];
    }
    auto r = gamma.unsqueeze(1) * q;
    for (std::int64_t j = std::max<std::int64_t>(0, k - m); j < k; ++j) {
      const auto s = j % m;
      const auto beta = rho[s] * row_dot(Y[s], r);
      r += S[s] * (alpha[s] - beta).unsqueeze(1);
    }
    auto direction = -r;
    auto slope = row_dot(g, direction);
    const auto uphill = slope >= 0;  // lost curvature information: restart from steepest descent
    direction = torch::where(uphill.unsqueeze(1), -g, direction);
    slope = torch::where(uphill, -row_dot(g, g), slope);
    rho.masked_fill_(uphill.unsqueeze(0), 0.0f);
    gamma = torch::where(uphill, torch::ones_like(gamma), gamma);

    // Weak-Wolfe bisection line search, per query (Lewis & Overton 2013).
    // First step (and after a restart) as PyTorch's LBFGS: min(1, 1/|g|_1); then 1, the quasi-Newton step.
    auto t = torch::where(first | uphill, (1.0 / g.abs().sum(1)).clamp_max(1.0), torch::ones({q_count}, real));
    auto lo = torch::zeros({q_count}, real), hi = torch::full({q_count}, inf, real);
    auto searching = active.clone();
    auto z_new = z.clone(), f_new = f.clone(), g_new = g.clone();
    auto moved = torch::zeros({q_count}, flags);
    for (int step = 0; step < options.max_line_search; ++step) {
      const auto rows = rows_of(searching);
      if (rows.numel() == 0) break;
      const auto t_rows = t.index_select(0, rows);
      const auto dir_rows = direction.index_select(0, rows);
      const auto z_try = z.index_select(0, rows) + t_rows.unsqueeze(1) * dir_rows;
      const auto [f_try, g_try] = value_and_grad(objective, z_try, rows);
      add_evaluations(evaluations, rows);
      const auto armijo = f_try <= f.index_select(0, rows) + kArmijo * t_rows * slope.index_select(0, rows);
      const auto curvature = row_dot(g_try, dir_rows) >= kCurvature * slope.index_select(0, rows);
      // Any Armijo point is progress; keep the latest one in case the search runs out of steps.
      const auto kept = rows_of(armijo), keep = rows.index_select(0, kept);
      z_new.index_copy_(0, keep, z_try.index_select(0, kept));
      f_new.index_copy_(0, keep, f_try.index_select(0, kept));
      g_new.index_copy_(0, keep, g_try.index_select(0, kept));
      moved.index_fill_(0, keep, true);
      const auto done = armijo & curvature;
      // Bracket update: too long a step shrinks hi, too short a step raises lo.
      const auto hi_rows = torch::where(armijo, hi.index_select(0, rows), t_rows);
      const auto lo_rows = torch::where(armijo & ~curvature, t_rows, lo.index_select(0, rows));
      const auto t_next = torch::where(torch::isinf(hi_rows), 2.0 * lo_rows, 0.5 * (lo_rows + hi_rows));
      hi.index_copy_(0, rows, hi_rows);
      lo.index_copy_(0, rows, lo_rows);
      t.index_copy_(0, rows, t_next);
      searching.index_copy_(0, rows, ~done);
      searching &= under_budget(evaluations, options.max_evaluations, device);  // the budget ends a search too
    }

    // Curvature pair of this step where it keeps H positive definite.
    const auto s = z_new - z, y = g_new - g;
    const auto sy = row_dot(s, y);
    const auto valid = moved & (sy > 1e-10);
    const auto slot = k % m;
    S[slot] = torch::where(valid.unsqueeze(1), s, torch::zeros_like(s));
    Y[slot] = torch::where(valid.unsqueeze(1), y, torch::zeros_like(y));
    rho[slot] = torch::where(valid, 1.0 / sy, torch::zeros_like(sy));
    gamma = torch::where(valid, sy / row_dot(y, y), gamma);

    const auto change = (f - f_new).abs();
    z = torch::where(moved.unsqueeze(1), z_new, z);
    f = torch::where(moved, f_new, f);
    g = torch::where(moved.unsqueeze(1), g_new, g);
    first &= ~active;
    active &= moved & (change >= options.tolerance_change) & (g.abs().amax(1) > options.tolerance_grad) &
              under_budget(evaluations, options.max_evaluations, device);
    if (options.progress) {
      const auto most = *std::max_element(evaluations.begin(), evaluations.end());
      options.progress(std::min(1.0, static_cast<double>(most) / options.max_evaluations));
    }
  }
  return {z, f, evaluations};
}

LatentSearchResult powell_batched(const LatentObjective& objective, const at::Tensor& z0, const PowellOptions& options) {
  TORCH_CHECK(z0.dim() == 2 && z0.size(0) > 0, "powell_batched: expected (Q, d) latents, got ", z0.sizes());
  TORCH_CHECK(options.max_iterations > 0 && options.line_evaluations >= 2 && options.bracket > 0 &&
                  options.brent_tolerance > 0,
              "powell_batched: max_iterations > 0, line_evaluations >= 2, bracket > 0 and brent_tolerance > 0 required");
  torch::NoGradGuard no_grad;
  const auto q_count = z0.size(0), dim = z0.size(1);
  auto z = z0.detach().to(torch::kFloat32).clone();
  const auto real = z.options();
  auto f = checked(objective(z, torch::arange(q_count, real.dtype(torch::kInt64))), q_count, "powell_batched");
  std::vector<std::int64_t> evaluations(q_count, 1);
  auto directions = torch::eye(dim, real).expand({q_count, dim, dim}).clone();  // row i of query q: its direction i
  const double inv_phi = (std::sqrt(5.0) - 1.0) / 2.0;

  auto evaluate = [&](const at::Tensor& rows, const at::Tensor& points) {
    add_evaluations(evaluations, rows);
    return checked(objective(points, rows), rows.numel(), "powell_batched");
  };
  // Golden-section minimisation of f(x + t u) over t in [-bracket, bracket] for the given rows, keeping the
  // best point seen (t = 0 included, so a line search never makes a query worse).
  auto line_minimise = [&](const at::Tensor& rows, const at::Tensor& u) {
    const auto x = z.index_select(0, rows);
    auto best_t = torch::zeros({rows.numel()}, real), best_f = f.index_select(0, rows);
    auto a = torch::full({rows.numel()}, -options.bracket, real), b = torch::full({rows.numel()}, options.bracket, real);
    auto c = b - inv_phi * (b - a), d = a + inv_phi * (b - a);
    auto at_t = [&](const at::Tensor& t) { return evaluate(rows, x + t.unsqueeze(1) * u); };
    auto consider = [&](const at::Tensor& t, const at::Tensor& value) {
      const auto better = value < best_f;
      best_t = torch::where(better, t, best_t);
      best_f = torch::where(better, value, best_f);
    };
    auto fc = at_t(c), fd = at_t(d);
    consider(c, fc);
    consider(d, fd);
    for (int e = 2; e < options.line_evaluations; ++e) {
      const auto left = fc < fd;  // the minimum is in [a, d]: drop (d, b]
      const auto a2 = torch::where(left, a, c), b2 = torch::where(left, d, b);
      const auto c2 = torch::where(left, b2 - inv_phi * (b2 - a2), d);
      const auto d2 = torch::where(left, c, a2 + inv_phi * (b2 - a2));
      const auto t_new = torch::where(left, c2, d2);
      const auto f_new = at_t(t_new);
      consider(t_new, f_new);
      const auto fc2 = torch::where(left, f_new, fd), fd2 = torch::where(left, fc, f_new);
      a = a2, b = b2, c = c2, d = d2, fc = fc2, fd = fd2;
    }
    z.index_copy_(0, rows, x + best_t.unsqueeze(1) * u);
    f.index_copy_(0, rows, best_f);
    return best_t;
  };
  // scipy's unbounded line search, one coroutine per query; each round evaluates every pending request at once.
  auto line_minimise_brent = [&](const at::Tensor& rows, const at::Tensor& u) {
    const auto n = rows.numel();
    const auto x = z.index_select(0, rows);
    const auto phi0 = to_vector<double>(f.index_select(0, rows).to(torch::kFloat64));
    std::vector<double> values(n);
    std::vector<BrentLineSearch> searches;
    std::vector<std::int64_t> asking;
    for (std::int64_t i = 0; i < n; ++i) {
      searches.push_back(brent_line_search(phi0[i], &values[i], options.brent_tolerance));
      if (searches.back().advance()) asking.push_back(i);
    }
    while (!asking.empty()) {
      std::vector<double> steps;
      for (const auto i : asking) steps.push_back(searches[i].step());
      const auto which = torch::tensor(asking, torch::kInt64).to(rows.device());
      const auto t = torch::tensor(steps, torch::kFloat64).to(z.device()).to(torch::kFloat32);
      const auto phi = to_vector<double>(
          evaluate(rows.index_select(0, which), x.index_select(0, which) + t.unsqueeze(1) * u.index_select(0, which))
              .to(torch::kFloat64));
      std::vector<std::int64_t> still;
      for (std::size_t j = 0; j < asking.size(); ++j) {
        values[asking[j]] = phi[j];
        if (searches[asking[j]].advance()) still.push_back(asking[j]);
      }
      asking = std::move(still);
    }
    std::vector<double> best_t(n), best_f(n);
    for (std::int64_t i = 0; i < n; ++i) std::tie(best_t[i], best_f[i]) = searches[i].best();
    const auto t = torch::tensor(best_t, torch::kFloat64).to(z.device()).to(torch::kFloat32);
    z.index_copy_(0, rows, x + t.unsqueeze(1) * u);
    f.index_copy_(0, rows, torch::tensor(best_f, torch::kFloat64).to(z.device()).to(torch::kFloat32));
    return t;
  };
  // With Brent the whole method follows scipy's Powell: the sweep's convergence is tested before Powell's
  // extrapolation (and no extrapolation follows the last sweep), the net move is taken from scipy's x1 (below),
  // and the new direction is that move scaled by its line search's step, not a unit vector.
  const bool as_scipy = options.line_search == LineSearch::kBrent;
  // Minimises along u (one direction per row) and returns the step taken per row.
  auto minimise_along = [&](const at::Tensor& rows, const at::Tensor& u) {
    return as_scipy ? line_minimise_brent(rows, u) : line_minimise(rows, u);
  };
  auto converged = [](const at::Tensor& f_before, const at::Tensor& f_after) {  // scipy's ftol = 1e-4
    return 2.0 * (f_before - f_after) <= 1e-4 * (f_before.abs() + f_after.abs()) + 1e-20;
  };

  auto active = torch::ones({q_count}, real.dtype(torch::kBool));
  // scipy measures a sweep's net move from where the previous sweep ended *before* its extra line search (its x1).
  auto origin = z.clone();
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    const auto rows = rows_of(active);
    if (rows.numel() == 0) break;
    const auto z_start = z.index_select(0, rows), f_start = f.index_select(0, rows);
    auto biggest_drop = torch::zeros({rows.numel()}, real);
    auto biggest_index = torch::zeros({rows.numel()}, real.dtype(torch::kInt64));
    for (std::int64_t i = 0; i < dim; ++i) {
      const auto f_before = f.index_select(0, rows);
      minimise_along(rows, directions.index_select(0, rows).select(1, i));
      const auto drop = f_before - f.index_select(0, rows);
      const auto larger = drop > biggest_drop;
      biggest_drop = torch::where(larger, drop, biggest_drop);
      biggest_index = torch::where(larger, torch::full_like(biggest_index, i), biggest_index);
      if (options.progress) options.progress((iteration + static_cast<double>(i + 1) / dim) / options.max_iterations);
    }
    // Powell's test: replace the direction of largest decrease by the net move of this sweep, if that helps.
    auto tested = torch::ones({rows.numel()}, real.dtype(torch::kBool));  // positions in `rows` that take the test
    if (as_scipy) {
      const auto done = converged(f_start, f.index_select(0, rows));
      active.index_copy_(0, rows, ~done);
      if (iteration + 1 == options.max_iterations) break;
      tested = ~done;
    }
    const auto keep = rows_of(tested);
    if (keep.numel() == 0) continue;
    const auto test_rows = rows.index_select(0, keep), drop = biggest_drop.index_select(0, keep);
    const auto f_begin = f_start.index_select(0, keep);
    const auto z_end = z.index_select(0, test_rows), f_end = f.index_select(0, test_rows);
    const auto moved = z_end - (as_scipy ? origin.index_select(0, test_rows) : z_start.index_select(0, keep));
    if (as_scipy) origin.index_copy_(0, test_rows, z_end);
    const auto f_extrapolated = evaluate(test_rows, z_end + moved);
    const auto t1 = 2.0 * (f_begin - 2.0 * f_end + f_extrapolated) * (f_begin - f_end - drop).square();
    const auto t2 = drop * (f_begin - f_extrapolated).square();
    const auto norm = moved.norm(2, 1);
    const auto replace = (f_extrapolated < f_begin) & (t1 < t2) & (norm > 0);
    if (dist::host_bool(replace.any())) {
      const auto which = rows_of(replace);
      const auto replace_rows = test_rows.index_select(0, which);
      const auto along = as_scipy ? moved.index_select(0, which)
                                  : moved.index_select(0, which) / norm.index_select(0, which).unsqueeze(1);
      const auto step = minimise_along(replace_rows, along);
      const auto direction = as_scipy ? along * step.unsqueeze(1) : along;
      const auto host_rows = dist::to_host(replace_rows), host_step = dist::to_host(step);
      const auto host_biggest = dist::to_host(biggest_index.index_select(0, keep).index_select(0, which));
      for (std::int64_t j = 0; j < replace_rows.numel(); ++j) {
        if (as_scipy && host_step[j].item<float>() == 0) continue;  // scipy keeps the set when the step is zero
        const auto row = host_rows[j].item<std::int64_t>();
        const auto big = host_biggest[j].item<std::int64_t>();
        directions[row][big].copy_(directions[row][dim - 1]);
        directions[row][dim - 1].copy_(direction[j]);
      }
    }
    if (!as_scipy) active.index_copy_(0, rows, ~converged(f_start, f.index_select(0, rows)));
  }
  return {z, f, evaluations};
}

}  // namespace ganleaks::attacks
