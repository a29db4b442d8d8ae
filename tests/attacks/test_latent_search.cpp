#include "attacks/latent_search.h"
#include "attacks/line_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <torch/torch.h>

#include "models/dcgan.h"

namespace ganleaks::attacks {
namespace {

// f_i(z) = (z - c_i)' A (z - c_i): a coupled quadratic with a different minimum per row.
struct Quadratic {
  at::Tensor a, centers;
  at::Tensor operator()(const at::Tensor& z, const at::Tensor& rows) const {
    const auto diff = z - centers.index_select(0, rows);
    return (diff.mm(a) * diff).sum(1);
  }
};

Quadratic make_quadratic(std::int64_t rows, std::int64_t dim) {
  torch::manual_seed(1);
  const auto m = torch::randn({dim, dim});
  return {m.mm(m.t()) / dim + torch::eye(dim), torch::randn({rows, dim})};
}

// Rosenbrock's banana, minimum 0 at (1, 1).
at::Tensor rosenbrock(const at::Tensor& z, const at::Tensor& /*rows*/) {
  const auto x = z.select(1, 0), y = z.select(1, 1);
  return (1 - x).square() + 100 * (y - x.square()).square();
}

TEST(Powell, FindsTheMinimumOfACoupledQuadratic) {
  const auto f = make_quadratic(3, 5);
  const auto result = powell_batched(f, torch::zeros({3, 5}), {.max_iterations = 30, .line_evaluations = 30});
  EXPECT_LT((result.z - f.centers).abs().max().item<float>(), 1e-3);
  EXPECT_LT(result.loss.max().item<float>(), 1e-5);
}

TEST(Powell, FindsTheMinimumOfRosenbrock) {
  const auto start = torch::tensor({{-1.2f, 1.0f}});
  const auto result = powell_batched(rosenbrock, start, {.max_iterations = 200, .line_evaluations = 40});
  EXPECT_NEAR(result.z[0][0].item<float>(), 1.0, 1e-2);
  EXPECT_NEAR(result.z[0][1].item<float>(), 1.0, 2e-2);
  EXPECT_LT(result.loss[0].item<float>(), 1e-3);
}

// Brent's line search against scipy 1.17's minimize_scalar(method="brent", options={"xtol": 1e-2}) (the line
// search of scipy's Powell), numbers printed by scipy: the same minimiser, and one evaluation fewer (phi(0) is
// passed in, scipy evaluates it again).
TEST(BrentLineSearch, AgreesWithScipy) {
  struct Case {
    std::function<double(double)> phi;
    double x, f;
    int scipy_evaluations;
  };
  const std::vector<Case> cases{
      {[](double t) { return (t - 3) * (t - 3) + std::sin(5 * t); }, 2.264055750871469, -0.4061311135537221, 9},
      {[](double t) { return std::exp(t) + t * t; }, -0.3511493470998093, 0.8271844877429239, 10},  // downhill to t < 0
      {[](double t) { return (t - 500.0) * (t - 500.0) / 1e4; }, 499.9999999999846, 2.373006694004176e-26, 10},  // growth limit
      {[](double) { return 1.0; }, 0.0, 1.0, 3},  // flat: no bracket, the lowest point seen
  };
  for (const auto& c : cases) {
    double value = 0;
    auto search = brent_line_search(c.phi(0.0), &value);
    int evaluations = 0;
    while (search.advance()) {
      value = c.phi(search.step());
      ++evaluations;
    }
    EXPECT_NEAR(search.best().first, c.x, 1e-9 * std::max(1.0, std::abs(c.x)));
    EXPECT_NEAR(search.best().second, c.f, 1e-12);
    EXPECT_EQ(evaluations, c.scipy_evaluations - 1);
  }
}

// Powell with Brent's line search follows scipy's Powell: on Rosenbrock from (-1.2, 1), scipy 1.17's
// minimize(method="Powell", options={"maxiter": 3}) stops at (-0.94878134, 0.92208708), f = 3.8457, after 69
// evaluations; with the default 23 sweeps at (1, 1). (Our objective runs in float32, scipy's in float64: hence the tolerances.)
TEST(Powell, BrentLineSearchFollowsScipysPowell) {
  const auto start = torch::tensor({{-1.2f, 1.0f}});
  const auto three = powell_batched(rosenbrock, start, {.max_iterations = 3, .line_search = LineSearch::kBrent});
  EXPECT_NEAR(three.z[0][0].item<float>(), -0.94878134, 1e-3);
  EXPECT_NEAR(three.z[0][1].item<float>(), 0.92208708, 1e-3);
  EXPECT_NEAR(three.loss[0].item<float>(), 3.845714338077967, 1e-3);
  EXPECT_EQ(three.evaluations[0], 69 - 8);  // scipy's nfev less its 8 re-evaluations of phi(0), one per line search
  const auto full = powell_batched(rosenbrock, start, {.max_iterations = 100, .line_search = LineSearch::kBrent});
  EXPECT_NEAR(full.z[0][0].item<float>(), 1.0, 1e-2);
  EXPECT_NEAR(full.z[0][1].item<float>(), 1.0, 2e-2);

  const auto f = make_quadratic(3, 5);
  const auto quadratic = powell_batched(f, torch::zeros({3, 5}), {.max_iterations = 30, .line_search = LineSearch::kBrent});
  EXPECT_LT((quadratic.z - f.centers).abs().max().item<float>(), 1e-3);
}

TEST(Powell, NeverWorsensAndCountsEvaluations) {
  const auto f = make_quadratic(4, 6);
  const auto start = torch::randn({4, 6});
  const PowellOptions options{.max_iterations = 2, .line_evaluations = 8};
  const auto result = powell_batched(f, start, options);
  EXPECT_TRUE((result.loss <= f(start, torch::arange(4))).all().item<bool>());
  for (const auto n : result.evaluations) {
    EXPECT_GE(n, 1 + 6 * 8 + 1);  // start, one sweep of line searches, the extrapolated point
    EXPECT_LE(n, 1 + 2 * (7 * 8 + 1));
  }
}

TEST(LatentSearch, ReportsProgressAsAGrowingFractionOfTheBudget) {
  const auto f = make_quadratic(2, 4);
  std::vector<double> seen;
  auto record = [&](double fraction) { seen.push_back(fraction); };
  powell_batched(f, torch::zeros({2, 4}), {.max_iterations = 3, .line_evaluations = 5, .progress = record});
  ASSERT_GE(seen.size(), 4u);  // at least one sweep over the 4 directions
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_GT(seen.front(), 0.0);
  EXPECT_LE(seen.back(), 1.0);
  seen.clear();
  lbfgs_batched(rosenbrock, torch::tensor({{-1.2f, 1.0f}}), {.max_evaluations = 40, .progress = record});
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_LE(seen.back(), 1.0);
}

TEST(Lbfgs, FindsTheMinimumOfACoupledQuadratic) {
  const auto f = make_quadratic(3, 8);
  const auto result = lbfgs_batched(f, torch::zeros({3, 8}), {});
  EXPECT_LT((result.z - f.centers).abs().max().item<float>(), 1e-3);
  EXPECT_LT(result.loss.max().item<float>(), 1e-6);
}

TEST(Lbfgs, FindsTheMinimumOfRosenbrock) {
  const auto result = lbfgs_batched(rosenbrock, torch::tensor({{-1.2f, 1.0f}, {0.5f, -0.5f}}), {});
  EXPECT_LT((result.z - 1.0).abs().max().item<float>(), 1e-2);
}

TEST(Lbfgs, RecoversAPlantedLatentOfAFixedGenerator) {
  torch::manual_seed(0);
  models::DcganGenerator g(models::DcganOptions{.z_dim = 4, .width = 8, .channels = 1});
  {
    // BatchNorm statistics of the latent distribution, so that the image actually depends on z.
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 50; ++i) g->forward(torch::randn({64, 4}));
  }
  g->eval();
  const auto planted = torch::randn({4, 4});
  at::Tensor target;
  {
    torch::NoGradGuard no_grad;
    target = g->forward(planted).reshape({4, -1});
  }
  auto mse = [&](const at::Tensor& z, const at::Tensor& rows) {
    return (g->forward(z).reshape({z.size(0), -1}) - target.index_select(0, rows)).square().mean(1);
  };
  const auto start = planted + 0.3 * torch::randn({4, 4});
  const auto result = lbfgs_batched(mse, start, {.tolerance_change = 0});
  EXPECT_LT(result.loss.max().item<float>(), 1e-7) << result.loss;
  EXPECT_GT(mse(start, torch::arange(4)).min().item<float>(), 1e-3) << "the start must be far off";
  EXPECT_LT((result.z - planted).abs().max().item<float>(), 1e-2) << result.z - planted;
}

// Each query's search must not depend on the other queries in its batch: search(ids, z) optimises the
// queries `ids` (starting at z) together. The objective runs the generator one row at a time, so that any
// difference could only come from the search itself (a convolution's result for a row may otherwise
// change in the last bits with the batch size).
void expect_batch_independent(const std::function<LatentSearchResult(const at::Tensor&, const at::Tensor&)>& search,
                              const at::Tensor& start) {
  const auto together = search(torch::arange(start.size(0)), start);
  for (std::int64_t i = 0; i < start.size(0); ++i) {
    const auto alone = search(torch::tensor({i}), start.narrow(0, i, 1));
    EXPECT_TRUE(torch::equal(alone.z[0], together.z[i])) << "query " << i;
    EXPECT_EQ(alone.evaluations[0], together.evaluations[i]) << "query " << i;
  }
}

TEST(LatentSearch, QueriesInABatchDoNotCouple) {
  torch::manual_seed(2);
  models::DcganGenerator g(models::DcganOptions{.z_dim = 6, .width = 4, .channels = 1});
  g->eval();
  const auto targets = torch::rand({5, 1024}) * 2 - 1;
  // A batch of queries `ids`: its row j is query ids[j].
  auto objective_for = [&](const at::Tensor& ids) -> LatentObjective {
    return [&g, ids, targets](const at::Tensor& z, const at::Tensor& rows) {
      std::vector<at::Tensor> images;
      for (std::int64_t j = 0; j < z.size(0); ++j) images.push_back(g->forward(z.narrow(0, j, 1)));
      const auto mine = targets.index_select(0, ids.index_select(0, rows));
      return (torch::cat(images).reshape({z.size(0), -1}) - mine).square().mean(1);
    };
  };
  const auto start = torch::randn({5, 6});
  expect_batch_independent(
      [&](const at::Tensor& ids, const at::Tensor& z) {
        return lbfgs_batched(objective_for(ids), z, {.max_evaluations = 200});
      },
      start);
  expect_batch_independent(
      [&](const at::Tensor& ids, const at::Tensor& z) {
        return powell_batched(objective_for(ids), z, {.max_iterations = 2, .line_evaluations = 6});
      },
      start);
}

}  // namespace
}  // namespace ganleaks::attacks
