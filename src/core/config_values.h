#pragma once
// How config values are written as TOML: shared by the reader's messages and the writer (config.cpp) and the key
// tables (config_docs.cpp). Private to src/core.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/config.h"

namespace ganleaks::detail {

// ---- Formatting values as TOML (messages, to_toml and the key tables) -------------------------------

// TOML escapes for control characters and, inside quotes, for '"' and '\'.
inline std::string escaped(std::string_view s, bool in_quotes) {
  std::string out;
  for (const char ch : s) {
    if (const auto u = static_cast<unsigned char>(ch); u < 0x20 || u == 0x7f) {
      out += fmt::format("\\u{:04X}", u);
    } else {
      if (in_quotes && (ch == '"' || ch == '\\')) out += '\\';
      out += ch;
    }
  }
  return out;
}

template <class T>
std::string show(const T& v) {
  if constexpr (std::is_floating_point_v<T>) {
    return show_real(v);
  } else if constexpr (std::is_arithmetic_v<T>) {
    return fmt::format("{}", v);  // integers; bools print as true/false
  } else {
    return quote(v);
  }
}

template <class T>
std::string show(const std::vector<T>& values) {
  std::vector<std::string> parts;
  for (const auto& v : values) parts.push_back(show<T>(v));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

inline std::string show_field(const Key& key, const KeyField& field) {
  return std::visit(
      [&](const auto* value) -> std::string {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(*value)>, std::vector<std::string>>) {
          if (key.one_or_array && value->size() == 1) return show(value->front());
        }
        return show(*value);
      },
      field);
}

}  // namespace ganleaks::detail
