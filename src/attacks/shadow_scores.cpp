#include "attacks/shadow_scores.h"

#include "metrics/normal.h"

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace ganleaks::attacks {
namespace {

constexpr double kSpreadFloor = 1e-30;  // added to every σ, as LiRA's code does

void check_shape(const ShadowSignals& s, std::string_view what) {
  const auto cells = static_cast<std::size_t>(s.queries * s.shadows);
  if (s.queries < 0 || s.shadows < 1 || s.signal.size() != cells || s.in.size() != cells) {
    throw std::invalid_argument(fmt::format("{}: {} signals and {} membership flags for {} queries × {} shadows", what,
                                            s.signal.size(), s.in.size(), s.queries, s.shadows));
  }
}

double log_normal_pdf(double x, const GaussianFit& f) {
  const double sigma = f.stddev + kSpreadFloor, z = (x - f.mean) / sigma;
  return -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2 * std::numbers::pi);
}

double mean_of(std::span<const double> values) {
  double sum = 0;
  for (const double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

}  // namespace

std::vector<GaussianFit> fit_shadows(const ShadowSignals& shadows, bool in, Spread spread) {
  check_shape(shadows, "shadow fit");
  std::vector<GaussianFit> fits(static_cast<std::size_t>(shadows.queries));
  double pooled_squares = 0;
  std::int64_t pooled_count = 0;
  for (std::int64_t q = 0; q < shadows.queries; ++q) {
    std::vector<double> values;
    for (std::int64_t k = 0; k < shadows.shadows; ++k) {
      if (shadows.was_in(q, k) == in) values.push_back(shadows.at(q, k));
    }
    const auto needed = spread == Spread::kPerQuery ? 2u : 1u;
    if (values.size() < needed) {
      throw std::invalid_argument(fmt::format("shadow fit: query {} has {} {} shadows, at least {} needed", q,
                                              values.size(), in ? "IN" : "OUT", needed));
    }
    auto& fit = fits[static_cast<std::size_t>(q)];
    fit.mean = mean_of(values);
    double squares = 0;
    for (const double v : values) squares += (v - fit.mean) * (v - fit.mean);
    fit.stddev = std::sqrt(squares / static_cast<double>(values.size()));
    pooled_squares += squares;
    pooled_count += static_cast<std::int64_t>(values.size());
  }
  if (spread == Spread::kGlobal && pooled_count > 0) {
    const double global = std::sqrt(pooled_squares / static_cast<double>(pooled_count));
    for (auto& fit : fits) fit.stddev = global;
  }
  return fits;
}

std::vector<double> lira_online(std::span<const double> target, const ShadowSignals& shadows, Spread spread) {
  const auto in = fit_shadows(shadows, true, spread), out = fit_shadows(shadows, false, spread);
  if (target.size() != in.size()) throw std::invalid_argument("LiRA: target signals and shadow queries differ in count");
  std::vector<double> scores(target.size());
  for (std::size_t q = 0; q < target.size(); ++q) scores[q] = log_normal_pdf(target[q], in[q]) - log_normal_pdf(target[q], out[q]);
  return scores;
}

std::vector<double> lira_offline(std::span<const double> target, const ShadowSignals& shadows, Spread spread) {
  const auto out = fit_shadows(shadows, false, spread);
  if (target.size() != out.size()) throw std::invalid_argument("LiRA: target signals and shadow queries differ in count");
  std::vector<double> scores(target.size());
  for (std::size_t q = 0; q < target.size(); ++q) {
    scores[q] = metrics::log_normal_cdf((target[q] - out[q].mean) / (out[q].stddev + kSpreadFloor));
  }
  return scores;
}

std::vector<double> rmia(std::span<const double> target_queries, const ShadowSignals& shadow_queries,
                         std::span<const double> target_population, const ShadowSignals& shadow_population,
                         const RmiaOptions& options) {
  check_shape(shadow_queries, "RMIA queries");
  check_shape(shadow_population, "RMIA population");
  if (target_queries.size() != static_cast<std::size_t>(shadow_queries.queries) ||
      target_population.size() != static_cast<std::size_t>(shadow_population.queries) ||
      shadow_queries.shadows != shadow_population.shadows) {
    throw std::invalid_argument("RMIA: the target's and the shadows' signals differ in count");
  }
  if (target_population.empty()) throw std::invalid_argument("RMIA: no population records z");
  // Pr(x): the average over reference models, or offline from the OUT ones (the population is OUT everywhere).
  const auto marginal = [&](const ShadowSignals& s, std::int64_t q) {
    double sum = 0;
    std::int64_t count = 0;
    for (std::int64_t k = 0; k < s.shadows; ++k) {
      if (options.online || !s.was_in(q, k)) sum += s.at(q, k), ++count;
    }
    if (count == 0) throw std::invalid_argument(fmt::format("RMIA offline: query {} is IN for every shadow", q));
    const double mean = sum / static_cast<double>(count);
    return options.online ? mean : 0.5 * ((1 + options.a) * mean + (1 - options.a));
  };
  std::vector<double> ratio_z(target_population.size());
  for (std::size_t z = 0; z < ratio_z.size(); ++z) {
    ratio_z[z] = target_population[z] / marginal(shadow_population, static_cast<std::int64_t>(z));
  }
  std::vector<double> scores(target_queries.size());
  for (std::size_t x = 0; x < scores.size(); ++x) {
    const double ratio_x = target_queries[x] / marginal(shadow_queries, static_cast<std::int64_t>(x));
    std::int64_t above = 0;
    for (const double rz : ratio_z) above += ratio_x / rz > options.gamma;
    scores[x] = static_cast<double>(above) / static_cast<double>(ratio_z.size());
  }
  return scores;
}

}  // namespace ganleaks::attacks
