#include "attacks/line_search.h"

#include <array>
#include <cmath>

namespace ganleaks::attacks {
namespace {
constexpr double kGold = 1.618034;          // golden-ratio growth of the bracket
constexpr double kGrowLimit = 110.0;        // largest parabolic extrapolation, in bracket widths
constexpr double kTiny = 1e-21;             // guards the parabola's denominator
constexpr double kGoldenSection = 0.3819660;  // (3 - sqrt 5) / 2
constexpr double kAbsoluteTolerance = 1e-11;
}  // namespace

BrentLineSearch brent_line_search(double phi0, const double* value, double relative_tolerance, int max_iterations) {
  // ---- Bracket: a, b, c with phi(b) below phi(a) and phi(c), searching downhill from {0, 1}.
  double a = 0, fa = phi0, b = 1;
  co_yield b;
  double fb = *value;
  if (fa < fb) {  // walk downhill from the lower point
    std::swap(a, b);
    std::swap(fa, fb);
  }
  double c = b + kGold * (b - a);
  co_yield c;
  double fc = *value;
  for (int iteration = 0; fc < fb && iteration <= 1000; ++iteration) {
    const double r = (b - a) * (fb - fc), q = (b - c) * (fb - fa), diff = q - r;
    const double denominator = 2.0 * (std::abs(diff) < kTiny ? kTiny : diff);
    double u = b - ((b - c) * q - (b - a) * r) / denominator;  // vertex of the parabola through a, b, c
    const double u_limit = b + kGrowLimit * (c - b);
    double fu = 0;
    if ((u - c) * (b - u) > 0) {  // vertex between b and c
      co_yield u;
      fu = *value;
      if (fu < fc) {  // minimum between b and c
        a = b, fa = fb, b = u, fb = fu;
        break;
      }
      if (fu > fb) {  // minimum between a and u
        c = u, fc = fu;
        break;
      }
      u = c + kGold * (c - b);  // the parabola did not help: grow by the golden ratio
      co_yield u;
      fu = *value;
    } else if ((u - u_limit) * (u_limit - c) >= 0) {  // vertex beyond the limit: go to the limit
      u = u_limit;
      co_yield u;
      fu = *value;
    } else if ((u - u_limit) * (c - u) > 0) {  // vertex between c and the limit
      co_yield u;
      fu = *value;
      if (fu < fc) {
        b = c, fb = fc, c = u, fc = fu;
        u = c + kGold * (c - b);
        co_yield u;
        fu = *value;
      }
    } else {
      u = c + kGold * (c - b);
      co_yield u;
      fu = *value;
    }
    a = b, fa = fb, b = c, fb = fc, c = u, fc = fu;
  }
  const bool lower_inside = (fb < fc && fb <= fa) || (fb < fa && fb <= fc);
  const bool ordered = (a < b && b < c) || (c < b && b < a);
  if (!(lower_inside && ordered && std::isfinite(a) && std::isfinite(b) && std::isfinite(c))) {
    // No valid bracket (a flat or monotone line): the lowest of the three points, as scipy returns it.
    const std::array<std::pair<double, double>, 3> points{{{a, fa}, {b, fb}, {c, fc}}};
    auto best = points[0];
    for (const auto& p : points) {
      if (p.second < best.second) best = p;
    }
    if (!std::isfinite(best.second) || best.second > phi0) best = {0.0, phi0};
    co_return best;
  }

  // ---- Brent: x the best point so far, w the second best, v the previous w; [lo, hi] holds the minimum.
  double lo = std::min(a, c), hi = std::max(a, c);
  double x = b, w = b, v = b, fx = fb, fw = fb, fv = fb;
  double step = 0, last_step = 0;  // this move and the one before the last (the parabola's acceptance test)
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    const double tol1 = relative_tolerance * std::abs(x) + kAbsoluteTolerance, tol2 = 2.0 * tol1;
    const double middle = 0.5 * (lo + hi);
    if (std::abs(x - middle) < tol2 - 0.5 * (hi - lo)) break;
    bool golden = true;
    if (std::abs(last_step) > tol1) {  // try the vertex of the parabola through x, w, v
      const double r = (x - w) * (fx - fv);
      double q = (x - v) * (fx - fw);
      double p = (x - v) * q - (x - w) * r;
      q = 2.0 * (q - r);
      if (q > 0) p = -p;
      q = std::abs(q);
      const double older = last_step;
      last_step = step;
      // Accept it if it stays inside the bracket and moves less than half the step before last.
      if (p > q * (lo - x) && p < q * (hi - x) && std::abs(p) < std::abs(0.5 * q * older)) {
        golden = false;
        step = p / q;
        const double u = x + step;
        if (u - lo < tol2 || hi - u < tol2) step = middle - x >= 0 ? tol1 : -tol1;
      }
    }
    if (golden) {  // golden section into the larger part of the bracket
      last_step = x >= middle ? lo - x : hi - x;
      step = kGoldenSection * last_step;
    }
    const double u = std::abs(step) < tol1 ? (step >= 0 ? x + tol1 : x - tol1) : x + step;
    co_yield u;
    const double fu = *value;
    if (fu > fx) {  // u is worse: it becomes a bracket end, and perhaps w or v
      (u < x ? lo : hi) = u;
      if (fu <= fw || w == x) {
        v = w, fv = fw, w = u, fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u, fv = fu;
      }
    } else {  // u is the new best point
      (u >= x ? lo : hi) = x;
      v = w, fv = fw, w = x, fw = fx, x = u, fx = fu;
    }
  }
  co_return std::pair{x, fx};
}

}  // namespace ganleaks::attacks
