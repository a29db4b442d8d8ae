#pragma once
// Arithmetic on logarithms of non-negative numbers, where the numbers themselves would under- or overflow.
#include <algorithm>
#include <cmath>
#include <limits>

namespace ganleaks {

// log(exp(a) + exp(b)); -inf stands for log 0.
inline double log_add_exp(double a, double b) {
  constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
  if (a == kMinusInf) return b;
  if (b == kMinusInf) return a;
  const double hi = std::max(a, b);
  return hi + std::log1p(std::exp(std::min(a, b) - hi));
}

}  // namespace ganleaks
