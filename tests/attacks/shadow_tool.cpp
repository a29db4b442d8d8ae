// Test-only driver of attacks/shadow_scores.h for tests/attacks/check_shadow_scores.py: reads cases as
// whitespace-separated text on stdin, prints one line of scores per case with 17 significant digits. Cases:
//   lira online|offline per-query|global Q K t_1 .. t_Q s_11 .. s_QK i_11 .. i_QK
//   rmia online|offline a gamma Q Z K t_1 .. t_Q s_11 .. s_QK i_11 .. i_QK u_1 .. u_Z p_11 .. p_ZK
// (t: the target's signals, s: the shadows' row-major, i: 0/1 IN flags, u and p: the same on the population).
// Bad input: a one-line message on stderr, exit status 2.
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "attacks/shadow_scores.h"

namespace {

using namespace ganleaks::attacks;

double number(const char* what) {
  double x = 0;
  if (!(std::cin >> x)) throw std::runtime_error(std::string("expected a number: ") + what);
  return x;
}
std::vector<double> numbers(std::int64_t n, const char* what) {
  std::vector<double> out(static_cast<std::size_t>(n));
  for (auto& x : out) x = number(what);
  return out;
}
std::string word(const char* what) {
  std::string w;
  if (!(std::cin >> w)) throw std::runtime_error(std::string("expected a word: ") + what);
  return w;
}
ShadowSignals shadows(std::int64_t queries, std::int64_t k, bool with_flags) {
  ShadowSignals s{.queries = queries, .shadows = k, .signal = numbers(queries * k, "signal")};
  for (std::int64_t i = 0; i < queries * k; ++i) s.in.push_back(with_flags ? static_cast<std::uint8_t>(number("flag")) : 0);
  return s;
}
void print(const std::vector<double>& scores) {
  for (std::size_t i = 0; i < scores.size(); ++i) std::printf(i ? " %.17g" : "%.17g", scores[i]);
  std::printf("\n");
}

}  // namespace

int main() {
  try {
    std::string kind;
    while (std::cin >> kind) {
      if (kind == "lira") {
        const bool online = word("online|offline") == "online";
        const auto spread = word("per-query|global") == "global" ? Spread::kGlobal : Spread::kPerQuery;
        const auto q = static_cast<std::int64_t>(number("Q")), k = static_cast<std::int64_t>(number("K"));
        const auto target = numbers(q, "target");
        const auto s = shadows(q, k, true);
        print(online ? lira_online(target, s, spread) : lira_offline(target, s, spread));
      } else if (kind == "rmia") {
        RmiaOptions options{.online = word("online|offline") == "online"};
        options.a = number("a");
        options.gamma = number("gamma");
        const auto q = static_cast<std::int64_t>(number("Q")), z = static_cast<std::int64_t>(number("Z"));
        const auto k = static_cast<std::int64_t>(number("K"));
        const auto target_x = numbers(q, "target");
        const auto sx = shadows(q, k, true);
        const auto target_z = numbers(z, "population target");
        const auto sz = shadows(z, k, false);
        print(rmia(target_x, sx, target_z, sz, options));
      } else {
        throw std::runtime_error("unknown case '" + kind + "'");
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shadow_tool: %s\n", e.what());
    return 2;
  }
  return 0;
}
