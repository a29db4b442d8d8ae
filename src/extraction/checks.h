#pragma once
// What the refinement arithmetic (calibration.cpp, refine.cpp) says about bad input: std::invalid_argument naming
// the function and the offending value, printed so that it reads back exactly.
#include <array>
#include <charconv>
#include <stdexcept>
#include <string>

namespace ganleaks::extraction::detail {

// Shortest text that reads back as x ("0.1", "nan", "-inf").
inline std::string number(double x) {
  std::array<char, 32> buffer;
  const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), x).ptr;
  return std::string(buffer.data(), end);
}

[[noreturn]] inline void fail(const char* where, const std::string& what) {
  throw std::invalid_argument(std::string(where) + ": " + what);
}

}  // namespace ganleaks::extraction::detail
