// Test-only driver of extraction/refine.h for tests/extraction/check_calibration.py: reads cases as whitespace-separated
// text from a file (or stdin when none is given or it is "-") and prints one line per case, numbers with 17
// significant digits. Cases:
//   isotonic N s_1 y_1 .. s_N y_N M q_1 .. q_M        ->  isotonic P(q_1) .. P(q_M)
//   platt    N s_1 y_1 .. s_N y_N M q_1 .. q_M        ->  platt A B iterations P(q_1) .. P(q_M)
//   mh start K p_1 .. p_K u_1 .. u_K R r_1 .. r_R     ->  mh index restarted accepted    (R = 0 or K - 1)
//   drs B b_1 .. b_B N d_1 .. d_N u_1 .. u_N quantile epsilon
//                                                     ->  drs max_logit gamma P_1 .. P_N A i_1 .. i_A
// y are 0/1 labels (1 = real). Bad input: a one-line message on stderr, exit status 2.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "extraction/refine.h"

namespace {

using ganleaks::extraction::Calibrator;

class Reader {
 public:
  explicit Reader(std::istream& in) : in_(in) {}

  bool next_word(std::string& word) { return static_cast<bool>(in_ >> word); }

  double number(const char* what) {
    std::string word;
    if (!(in_ >> word)) throw std::runtime_error(std::string("input ends where ") + what + " was expected");
    try {
      std::size_t used = 0;
      const double x = std::stod(word, &used);
      if (used != word.size()) throw std::invalid_argument(word);
      return x;
    } catch (const std::logic_error&) {
      throw std::runtime_error(std::string("\"") + word + "\" is not a number (" + what + ")");
    }
  }

  std::size_t count(const char* what) {
    const double x = number(what);
    if (!(x >= 0.0) || x != static_cast<double>(static_cast<std::size_t>(x))) {
      throw std::runtime_error(std::string(what) + " must be a count, not " + std::to_string(x));
    }
    return static_cast<std::size_t>(x);
  }

  std::vector<double> numbers(std::size_t n, const char* what) {
    std::vector<double> out(n);
    for (double& x : out) x = number(what);
    return out;
  }

 private:
  std::istream& in_;
};

void print(double x) { std::printf(" %.17g", x); }

void calibrate(Reader& in, const std::string& method) {
  const std::size_t n = in.count("N");
  std::vector<double> scores(n);
  std::vector<std::uint8_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    scores[i] = in.number("score");
    const double y = in.number("label");
    if (y != 0.0 && y != 1.0) throw std::runtime_error("label " + std::to_string(y) + " is not 0 or 1");
    labels[i] = static_cast<std::uint8_t>(y);
  }
  const std::vector<double> queries = in.numbers(in.count("M"), "query score");
  const Calibrator c = method == "platt" ? Calibrator::platt(scores, labels) : Calibrator::isotonic(scores, labels);
  std::printf("%s", method.c_str());
  if (method == "platt") {
    print(c.platt_a());
    print(c.platt_b());
    std::printf(" %d", c.platt_iterations());
  }
  for (double p : c.probabilities(queries)) print(p);
  std::printf("\n");
}

void mh(Reader& in) {
  const double start = in.number("start probability");
  const std::size_t k = in.count("K");
  const std::vector<double> probabilities = in.numbers(k, "proposal probability");
  const std::vector<double> uniforms = in.numbers(k, "uniform");
  const std::vector<double> restart = in.numbers(in.count("R"), "restart uniform");
  const auto chain = ganleaks::extraction::mh_independence_chain(start, probabilities, uniforms, restart);
  std::printf("mh %lld %d %lld\n", static_cast<long long>(chain.index), chain.restarted ? 1 : 0,
              static_cast<long long>(chain.accepted));
}

void drs(Reader& in) {
  const std::vector<double> burn_in = in.numbers(in.count("B"), "burn-in logit");
  const std::size_t n = in.count("N");
  const std::vector<double> logits = in.numbers(n, "logit");
  const std::vector<double> uniforms = in.numbers(n, "uniform");
  const double quantile = in.number("quantile");
  const double epsilon = in.number("epsilon");
  const auto result = ganleaks::extraction::discriminator_rejection_sampling(burn_in, logits, uniforms, quantile, epsilon);
  std::printf("drs");
  print(result.max_logit);
  print(result.gamma);
  for (double p : result.acceptance_probability) print(p);
  std::printf(" %zu", result.accepted.size());
  for (std::int64_t i : result.accepted) std::printf(" %lld", static_cast<long long>(i));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: %s [FILE]\n", argv[0]);
    return 2;
  }
  std::ifstream file;
  const bool from_file = argc == 2 && std::string(argv[1]) != "-";
  if (from_file) {
    file.open(argv[1]);
    if (!file) {
      std::fprintf(stderr, "refine_tool: cannot read %s\n", argv[1]);
      return 2;
    }
  }
  Reader in(from_file ? static_cast<std::istream&>(file) : std::cin);
  std::string kind;
  for (int index = 1; in.next_word(kind); ++index) {
    try {
      if (kind == "isotonic" || kind == "platt") {
        calibrate(in, kind);
      } else if (kind == "mh") {
        mh(in);
      } else if (kind == "drs") {
        drs(in);
      } else {
        throw std::runtime_error("unknown case \"" + kind + "\" (isotonic, platt, mh or drs)");
      }
    } catch (const std::exception& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "refine_tool: case %d (%s): %s\n", index, kind.c_str(), e.what());
      return 2;
    }
  }
  return 0;
}
