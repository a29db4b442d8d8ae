#include "core/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <utility>

#include "core/errors.h"
#include "models/catalog.h"

namespace ganleaks {
namespace {

// ---- What each key accepts (data, so messages and README come from the same lists) ----

struct IntRange {
  std::int64_t lo, hi;
};
struct FloatRange {
  double lo, hi;
  bool lo_open, hi_open;
};
struct TextRule {
  std::string_view expected;
  bool (*ok)(std::string_view);
};

constexpr TextRule kNonEmpty{"a non-empty string", [](std::string_view s) { return !s.empty(); }};
constexpr TextRule kAnyText{"a string", [](std::string_view) { return true; }};
constexpr std::string_view kNameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
constexpr TextRule kName{"1 to 64 characters from [A-Za-z0-9_.-]", [](std::string_view s) {
                           return !s.empty() && s.size() <= 64 && s.find_first_not_of(kNameChars) == s.npos;
                         }};

constexpr std::array<std::string_view, 3> kDatasets{"fashion-mnist", "fashion-mnist-binary", "tabular"};
constexpr std::array<std::string_view, 3> kPools{"train", "test", "all"};
constexpr std::array<std::int64_t, 2> kImageSizes{28, 32};
constexpr std::array<std::string_view, 2> kMemberSelections{"random", "class"};
constexpr std::array<std::string_view, 6> kAttackSettings{"fbb", "pbb", "wb", "dis", "mc", "domias"};
constexpr std::array<std::string_view, 3> kLatentInits{"nn", "zero", "random"};
constexpr std::array<std::string_view, 2> kTasks{"membership", "extraction"};
constexpr std::array<std::string_view, 2> kPriors{"normal", "uniform"};
constexpr std::array<std::string_view, 2> kRefiners{"mh", "drs"};
constexpr std::array<std::string_view, 2> kCalibrations{"isotonic", "platt"};
constexpr std::array<std::string_view, 2> kExtractors{"classifier", "torchscript"};
constexpr std::array<std::string_view, 2> kInputRanges{"0-1", "-1-1"};
constexpr std::array<std::int64_t, 2> kChannelCounts{1, 3};

constexpr FloatRange kLearningRate{0.0, 1.0, true, false};  // (0, 1]
constexpr FloatRange kAdamBeta{0.0, 1.0, false, true};      // [0, 1)
constexpr FloatRange kRegulariser{0.0, 1e6, false, false};  // [0, 1e6]
constexpr FloatRange kBracket{0.0, 1e3, true, false};       // (0, 1000]
constexpr FloatRange kPositive{0.0, 1e6, true, false};      // (0, 1e6]
constexpr FloatRange kProbability{0.0, 1.0, false, false};  // [0, 1]
constexpr FloatRange kOpenUnit{0.0, 1.0, true, true};       // (0, 1)
constexpr FloatRange kStrength{0.0, 1e3, false, false};     // [0, 1000]

// The single list of sections and keys. F is Reader (validates into c) or Writer (prints c).
template <class F>
void describe(F& f, Config& c) {
  f.section("experiment");
  f.choice("task", c.experiment.task, kTasks);
  f.text("name", c.experiment.name, kName);
  f.text("results_dir", c.experiment.results_dir, kNonEmpty);
  f.int_list("seeds", c.experiment.seeds, {0, std::int64_t{1} << 53});
  f.integer("threads_per_rank", c.experiment.threads_per_rank, {1, 256});
  f.integer("ranks_per_run", c.experiment.ranks_per_run, {1, 4096});

  f.section("data");
  f.choice("dataset", c.data.dataset, kDatasets);
  f.text("path", c.data.path, kNonEmpty);
  f.choice("pool", c.data.pool, kPools);
  f.choice("image_size", c.data.image_size, kImageSizes);
  f.integer("reference_size", c.data.reference_size, {1, 1'000'000});
  f.choice("member_selection", c.data.member_selection, kMemberSelections);
  f.int_list("member_classes", c.data.member_classes, {0, std::int64_t{1} << 31});

  f.section("sweep", "membership");
  f.int_list("train_sizes", c.sweep.train_sizes, {1, 10'000'000});

  f.section("model");
  f.choices("name", c.model.names, models::kModelNames);
  f.integer("z_dim", c.model.z_dim, {1, 4096});
  f.integer("width", c.model.width, {4, 1024});

  f.section("train");
  f.integer("iterations", c.train.iterations, {1, 1'000'000'000});
  f.integer("batch_size", c.train.batch_size, {1, 65536});
  f.real("lr_g", c.train.lr_g, kLearningRate);
  f.real("lr_d", c.train.lr_d, kLearningRate);
  f.real("beta1", c.train.beta1, kAdamBeta);
  f.real("beta2", c.train.beta2, kAdamBeta);
  f.integer("checkpoint_every", c.train.checkpoint_every, {1, 1'000'000'000});
  f.integer("critic_steps", c.train.critic_steps, {1, 100});
  f.real("gp_lambda", c.train.gp_lambda, kRegulariser);
  f.integer("pretrain_iterations", c.train.pretrain_iterations, {0, 1'000'000'000});
  f.real("vaegan_gamma", c.train.vaegan_gamma, kRegulariser);

  f.section("attack", "membership");
  f.choice_list("settings", c.attack.settings, kAttackSettings);
  f.bool_list("calibrated", c.attack.calibrated);
  f.integer("max_queries", c.attack.max_queries, {1, 10'000'000});
  f.integer("fbb_samples", c.attack.fbb_samples, {1, 100'000'000});
  f.integer("block_size", c.attack.block_size, {1, 65536});
  f.integer("bootstrap_resamples", c.attack.bootstrap_resamples, {0, 1'000'000});
  f.real("lambda_reg", c.attack.lambda_reg, kRegulariser);
  f.real("lambda_lpips", c.attack.lambda_lpips, kRegulariser);
  f.text("lpips_model", c.attack.lpips_model, kAnyText);
  f.integer("wb_max_evaluations", c.attack.wb_max_evaluations, {1, 1'000'000});
  f.integer("wb_history", c.attack.wb_history, {1, 1000});
  f.integer("wb_restarts", c.attack.wb_restarts, {1, 100});
  f.choice("wb_init", c.attack.wb_init, kLatentInits);
  f.integer("pbb_iterations", c.attack.pbb_iterations, {1, 10'000});
  f.integer("pbb_line_evaluations", c.attack.pbb_line_evaluations, {2, 1000});
  f.real("pbb_bracket", c.attack.pbb_bracket, kBracket);
  f.choice("pbb_init", c.attack.pbb_init, kLatentInits);

  f.section("privacy", "membership");
  f.real_list("target_epsilons", c.privacy.target_epsilons, kPositive);
  f.real_list("noise_multipliers", c.privacy.noise_multipliers, kPositive);
  f.boolean("non_private", c.privacy.non_private);
  f.real("max_grad_norm", c.privacy.max_grad_norm, kPositive);
  f.real("sample_rate", c.privacy.sample_rate, kProbability);
  f.real("delta", c.privacy.delta, kProbability);
  f.boolean("secure_noise", c.privacy.secure_noise);

  f.section("extraction", "extraction");
  f.integer("target_train_size", c.extraction.target_train_size, {1, 10'000'000});
  f.int_list("target_classes", c.extraction.target_classes, {0, 9}, /*may_be_empty=*/true);
  f.choice_list("attack_models", c.extraction.attack_models, models::kModelNames);
  f.integer("attack_iterations", c.extraction.attack_iterations, {0, 1'000'000'000});
  f.choice_list("priors", c.extraction.priors, kPriors);
  f.int_list("fidelity_queries", c.extraction.fidelity_queries, {1, 100'000'000});
  f.int_list("accuracy_queries", c.extraction.accuracy_queries, {1, 100'000'000}, /*may_be_empty=*/true);
  f.choice_list("refiners", c.extraction.refiners, kRefiners);
  f.choice("calibration", c.extraction.calibration, kCalibrations);
  f.integer("mh_chain_length", c.extraction.mh_chain_length, {1, 1'000'000});
  f.real("drs_gamma_quantile", c.extraction.drs_gamma_quantile, kOpenUnit);
  f.integer("partial_real", c.extraction.partial_real, {1, 10'000'000});
  f.choice_list("defenses", c.extraction.defenses, kDefenseNames, /*may_be_empty=*/true);
  f.integer("defense_queries", c.extraction.defense_queries, {1, 100'000'000});
  f.integer("fid_samples", c.extraction.fid_samples, {2, 10'000'000});
  f.boolean("transfer", c.extraction.transfer);
  f.int_list("transfer_classes", c.extraction.transfer_classes, {0, 9});
  f.integer("transfer_train_size", c.extraction.transfer_train_size, {1, 10'000'000});
  f.integer("transfer_iterations", c.extraction.transfer_iterations, {1, 1'000'000'000});

  f.section("defenses", "extraction");
  f.real_list("linear_strength", c.defenses.linear_strength, kProbability);
  f.integer("linear_partners", c.defenses.linear_partners, {1, 1'000'000});
  f.real_list("semantic_magnitude", c.defenses.semantic_magnitude, kStrength);
  f.integer("semantic_samples", c.defenses.semantic_samples, {2, 10'000'000});
  f.integer("semantic_k", c.defenses.semantic_k, {1, 5'000'000});
  f.real_list("noise_std", c.defenses.noise_std, kStrength);
  f.real_list("adversarial_epsilon", c.defenses.adversarial_epsilon, kStrength);
  f.integer("adversarial_steps", c.defenses.adversarial_steps, {1, 1000});
  f.real_list("filter_sigma", c.defenses.filter_sigma, kStrength);
  f.int_list("jpeg_quality", c.defenses.jpeg_quality, {1, 100});

  f.section("features", "extraction");
  f.choice("extractor", c.features.extractor, kExtractors);
  f.text("torchscript_model", c.features.torchscript_model, kAnyText);
  f.integer("input_size", c.features.input_size, {8, 4096});
  f.choice("channels", c.features.channels, kChannelCounts);
  f.choice("input_range", c.features.input_range, kInputRanges);
  f.integer("classifier_iterations", c.features.classifier_iterations, {1, 1'000'000'000});
  f.integer("classifier_batch_size", c.features.classifier_batch_size, {1, 65536});
  f.real("classifier_lr", c.features.classifier_lr, kLearningRate);
  f.integer("classifier_width", c.features.classifier_width, {4, 1024});
  f.integer("classifier_feature_dim", c.features.classifier_feature_dim, {2, 65536});
  f.integer("classifier_seed", c.features.classifier_seed, {0, std::int64_t{1} << 53});
}

// ---- Formatting values as TOML (used by both messages and to_toml) ----

// TOML escapes for control characters and, inside quotes, for '"' and '\'.
std::string escaped(std::string_view s, bool in_quotes) {
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

std::string quote(std::string_view s) { return fmt::format("\"{}\"", escaped(s, true)); }

// Messages are one line: control characters (from quoted keys or parser text) become escapes.
std::string one_line(std::string_view s) { return escaped(s, false); }

template <class T>
std::string show(const T& v) {
  if constexpr (std::is_floating_point_v<T>) {
    std::string s = fmt::format("{}", v);  // shortest representation that round-trips
    if (s.find_first_not_of("-0123456789") == std::string::npos) s += ".0";  // keep it a TOML float
    return s;
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

std::string_view type_name(const toml::node& n) {
  constexpr std::array<std::string_view, 10> kNames{"none",  "table",   "array", "string", "integer",
                                                    "float", "boolean", "date",  "time",   "date-time"};
  return kNames.at(static_cast<std::size_t>(n.type()));
}

// A scalar node as the user wrote it, for messages.
std::string written(const toml::node& n) {
  if (const auto* text = n.as_string()) return quote(text->get());
  std::ostringstream out;
  n.visit([&](const auto& v) {
    if constexpr (toml::is_value<decltype(v)>) out << v;
  });
  return out.str();
}

// ---- Reader: validates the TOML document table by table ----

class Reader {
 public:
  Reader(const toml::table& root, std::string_view source) : root_(root), source_(source) {}

  // Closes the previous section (reporting its unknown keys) and opens `name`; `task`: the experiment.task it
  // belongs to (check_task_sections refuses the others' sections), "" for every task.
  void section(std::string_view name, std::string_view /*task*/ = "") {
    close_section();
    sections_.push_back(name);
    name_ = name;
    const toml::node* n = root_.get(name);
    table_ = n ? n->as_table() : nullptr;
    if (n && !table_) fail("{} has wrong type ({}); expected a table [{}]", name, type_name(*n), name);
  }

  // Reports unknown keys of the last section and unknown sections.
  void finish() {
    close_section();
    for (const auto& [key, node] : root_) {
      if (std::ranges::find(sections_, key.str()) != sections_.end()) continue;
      const auto what = node.is_table() ? fmt::format("section [{}]", key.str())
                                        : fmt::format("top-level key '{}'", key.str());
      fail("unknown {}; valid sections: {}", what, fmt::join(sections_, ", "));
    }
  }

  template <class T>
  void integer(std::string_view key, T& field, IntRange r) {
    if (const toml::node* n = lookup(key)) field = static_cast<T>(int_in(*n, label(key), r));
  }

  void real(std::string_view key, double& field, FloatRange r) {
    if (const toml::node* n = lookup(key)) field = real_in(*n, label(key), r);
  }

  void text(std::string_view key, std::string& field, TextRule rule) {
    const toml::node* n = lookup(key);
    if (!n) return;
    const std::string k = label(key);
    std::string v = typed<std::string>(*n, k, rule.expected);
    if (!rule.ok(v)) fail("{} = {} is not allowed; expected {}", k, show(v), rule.expected);
    field = std::move(v);
  }

  template <class T, class A, std::size_t N>
  void choice(std::string_view key, T& field, const std::array<A, N>& allowed) {
    if (const toml::node* n = lookup(key)) field = T(one_of(*n, label(key), allowed));
  }

  template <class T>
  void int_list(std::string_view key, std::vector<T>& field, IntRange r, bool may_be_empty = false) {
    list(key, field, "integers",
         [&](const toml::node& n, const std::string& k) { return static_cast<T>(int_in(n, k, r)); }, may_be_empty);
  }

  template <std::size_t N>
  void choice_list(std::string_view key, std::vector<std::string>& field,
                   const std::array<std::string_view, N>& allowed, bool may_be_empty = false) {
    list(key, field, "strings",
         [&](const toml::node& n, const std::string& k) { return std::string(one_of(n, k, allowed)); }, may_be_empty);
  }

  // One allowed string, or a non-empty array of unique ones (a sweep dimension).
  template <std::size_t N>
  void choices(std::string_view key, std::vector<std::string>& field, const std::array<std::string_view, N>& allowed) {
    const toml::node* n = table_ ? table_->get(key) : nullptr;
    if (n && !n->is_array()) {
      keys_.push_back(key);
      field = {std::string(one_of(*n, label(key), allowed))};
      return;
    }
    choice_list(key, field, allowed);
  }

  void boolean(std::string_view key, bool& field) {
    if (const toml::node* n = lookup(key)) field = typed<bool>(*n, label(key), "a boolean");
  }

  // May be empty ([] is the default: nothing of that kind).
  void real_list(std::string_view key, std::vector<double>& field, FloatRange r) {
    list(key, field, "floats", [&](const toml::node& n, const std::string& k) { return real_in(n, k, r); },
         /*may_be_empty=*/true);
  }

  void bool_list(std::string_view key, std::vector<bool>& field) {
    list(key, field, "booleans",
         [&](const toml::node& n, const std::string& k) { return typed<bool>(n, k, "a boolean"); });
  }

 private:
  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    throw ConfigError(
        one_line(fmt::format("{}: {}", source_, fmt::format(format, std::forward<Args>(args)...))));
  }

  std::string label(std::string_view key) const { return fmt::format("{}.{}", name_, key); }

  // Registers `key` as valid in the open section; returns its node, or nullptr if absent.
  const toml::node* lookup(std::string_view key) {
    keys_.push_back(key);
    return table_ ? table_->get(key) : nullptr;
  }

  void close_section() {
    if (table_) {
      for (const auto& [key, node] : *table_) {
        if (std::ranges::find(keys_, key.str()) == keys_.end()) {
          fail("unknown key '{}.{}'; valid keys in [{}]: {}", name_, key.str(), name_,
               fmt::join(keys_, ", "));
        }
      }
    }
    table_ = nullptr;
    keys_.clear();
  }

  // The node's value as T, or a type error. Floats accept TOML integers; integers reject floats.
  template <class T>
  T typed(const toml::node& n, const std::string& k, std::string_view expected) const {
    if constexpr (std::is_same_v<T, double>) {
      if (const auto* i = n.as_integer()) return static_cast<double>(i->get());
    }
    if (const auto* v = n.as<T>()) return v->get();
    if (n.is_value()) fail("{} = {} has wrong type ({}); expected {}", k, written(n), type_name(n), expected);
    fail("{} has wrong type ({}); expected {}", k, type_name(n), expected);
  }

  double real_in(const toml::node& n, const std::string& k, FloatRange r) const {
    const std::string expected =
        fmt::format("a float in {}{}, {}{}", r.lo_open ? '(' : '[', r.lo, r.hi, r.hi_open ? ')' : ']');
    const double v = typed<double>(n, k, expected);
    const bool ok = (r.lo_open ? v > r.lo : v >= r.lo) && (r.hi_open ? v < r.hi : v <= r.hi);  // NaN fails
    if (!ok) fail("{} = {} is out of range; expected {}", k, show(v), expected);
    return v;
  }

  std::int64_t int_in(const toml::node& n, const std::string& k, IntRange r) const {
    const std::string expected = fmt::format("an integer in [{}, {}]", r.lo, r.hi);
    const auto v = typed<std::int64_t>(n, k, expected);
    if (v < r.lo || v > r.hi) fail("{} = {} is out of range; expected {}", k, v, expected);
    return v;
  }

  template <class A, std::size_t N>
  A one_of(const toml::node& n, const std::string& k, const std::array<A, N>& allowed) const {
    constexpr bool kText = std::is_same_v<A, std::string_view>;
    const auto expected =
        fmt::format("{}one of: {}", kText ? "a string, " : "an integer, ", fmt::join(allowed, ", "));
    const auto v = typed<std::conditional_t<kText, std::string, std::int64_t>>(n, k, expected);
    const auto it = std::ranges::find(allowed, v);
    if (it == allowed.end())
      fail("{} = {} is not allowed; expected one of: {}", k, show(v), fmt::join(allowed, ", "));
    return *it;
  }

  // A non-empty array of unique elements, each read by `element(node, "section.key[i]")`.
  template <class T, class Element>
  void list(std::string_view key, std::vector<T>& field, std::string_view what, Element element,
            bool may_be_empty = false) {
    const toml::node* n = lookup(key);
    if (!n) return;
    const std::string k = label(key);
    const toml::array* array = n->as_array();
    if (!array) fail("{} has wrong type ({}); expected an array of {}", k, type_name(*n), what);
    if (array->empty() && !may_be_empty) fail("{} = [] is empty; expected a non-empty array of {}", k, what);
    std::vector<T> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const T v = element(*array->get(i), fmt::format("{}[{}]", k, i));
      if (std::ranges::find(out, v) != out.end())
        fail("{} contains {} twice; expected unique values", k, show(v));
      out.push_back(v);
    }
    field = std::move(out);
  }

  const toml::table& root_;
  std::string_view source_;
  std::vector<std::string_view> sections_;  // sections seen so far, in order
  std::string_view name_;                   // open section
  const toml::table* table_ = nullptr;      // open section's table, nullptr if absent
  std::vector<std::string_view> keys_;      // keys of the open section seen so far
};

// ---- Writer: prints every key of a Config as TOML, in describe() order ----

class Writer {
 public:
  // Only the sections of the config's task are written, so that the resolved config parses back; with `only`,
  // that one section alone.
  Writer(std::string header, std::string_view task, std::string_view only = "")
      : out_(std::move(header)), task_(task), only_(only) {}
  void section(std::string_view name, std::string_view task = "") {
    skipping_ = (!task.empty() && task != task_) || (!only_.empty() && name != only_);
    if (!skipping_) out_ += fmt::format("\n[{}]\n", name);
  }
  // clang-format off
  template <class T> void integer(std::string_view key, const T& v, IntRange) { line(key, v); }
  void real(std::string_view key, double v, FloatRange) { line(key, v); }
  void text(std::string_view key, const std::string& v, TextRule) { line(key, v); }
  template <class T, class A, std::size_t N>
  void choice(std::string_view key, const T& v, const std::array<A, N>&) { line(key, v); }
  template <class A, std::size_t N>
  void choices(std::string_view key, const std::vector<std::string>& v, const std::array<A, N>&) {
    if (v.size() == 1) line(key, v.front()); else line(key, v);
  }
  template <class T> void int_list(std::string_view key, const std::vector<T>& v, IntRange, bool = false) { line(key, v); }
  template <class A, std::size_t N>
  void choice_list(std::string_view key, const std::vector<std::string>& v, const std::array<A, N>&, bool = false) { line(key, v); }
  void bool_list(std::string_view key, const std::vector<bool>& v) { line(key, v); }
  void boolean(std::string_view key, bool v) { line(key, v); }
  void real_list(std::string_view key, const std::vector<double>& v, FloatRange) { line(key, v); }
  // clang-format on
  std::string str() && { return std::move(out_); }

 private:
  template <class T>
  void line(std::string_view key, const T& v) {
    if (!skipping_) out_ += fmt::format("{} = {}\n", key, show(v));
  }
  std::string out_;
  std::string_view task_, only_;
  bool skipping_ = false;
};

// Each task reads its own sections; a section of the other task is a mistake worth naming.
void check_task_sections(const toml::table& root, const Config& c, std::string_view source) {
  constexpr std::array<std::string_view, 3> kMembership{"sweep", "attack", "privacy"};
  constexpr std::array<std::string_view, 3> kExtraction{"extraction", "defenses", "features"};
  const bool extraction = c.experiment.task == "extraction";
  for (const auto section : extraction ? kMembership : kExtraction) {
    if (root.contains(section)) {
      throw ConfigError(fmt::format("{}: section [{}] does not apply to experiment.task = {}; it belongs to "
                                    "experiment.task = {} (configs/README.md)",
                                    source, section, quote(c.experiment.task), extraction ? "\"membership\"" : "\"extraction\""));
    }
  }
}

void check_extraction(const Config& c, std::string_view source) {
  const auto& e = c.extraction;
  const auto fail = [&](const std::string& message) { throw ConfigError(fmt::format("{}: {}", source, message)); };
  if (c.data.dataset != "fashion-mnist" || c.data.image_size != 32) {
    fail(fmt::format("experiment.task = \"extraction\" needs images: data.dataset = \"fashion-mnist\" and "
                     "data.image_size = 32 (got {} and {}); the zoo's image models and the FID classifier take 32×32 images",
                     quote(c.data.dataset), c.data.image_size));
  }
  const auto image_model = [&](const std::string& key, const std::string& name) {
    if (models::model_info(name).modality != models::Modality::kImages) {
      fail(fmt::format("{} = {} is a model of records; extraction steals image GANs (docs/models.md)", key, quote(name)));
    }
  };
  for (const auto& name : c.model.names) {
    image_model("model.name", name);
    if (!e.accuracy_queries.empty() && !models::model_info(name).discriminator) {
      fail(fmt::format("model.name = {} has no discriminator, which accuracy extraction refines with; set "
                       "extraction.accuracy_queries = [] or choose a GAN target", quote(name)));
    }
  }
  for (const auto& name : e.attack_models) image_model("extraction.attack_models", name);
  const std::int64_t feature_dim = c.features.extractor == "classifier" ? c.features.classifier_feature_dim : 0;
  if (feature_dim > 0 && e.fid_samples <= feature_dim) {
    fail(fmt::format("extraction.fid_samples = {} must exceed features.classifier_feature_dim = {}: FID needs more samples "
                     "than feature dimensions for a non-singular covariance", e.fid_samples, feature_dim));
  }
  if (feature_dim > 0 && e.target_train_size <= feature_dim) {
    fail(fmt::format("extraction.target_train_size = {} must exceed features.classifier_feature_dim = {}: the target's "
                     "training set is the real side of every accuracy FID", e.target_train_size, feature_dim));
  }
  if (feature_dim > 0 && !e.defenses.empty() && e.defense_queries <= feature_dim) {
    fail(fmt::format("extraction.defense_queries = {} must exceed features.classifier_feature_dim = {}: each defense's "
                     "utility cost is an FID of its answers", e.defense_queries, feature_dim));
  }
  if (e.partial_real > e.target_train_size) {
    fail(fmt::format("extraction.partial_real = {} exceeds extraction.target_train_size = {}: the thief's real records "
                     "are part of the target's training set", e.partial_real, e.target_train_size));
  }
  for (const auto q : e.accuracy_queries) {
    for (const auto& refiner : e.refiners) {
      const auto least = e.partial_real + (refiner == "mh" ? e.mh_chain_length : 1);
      if (q < least) {
        fail(fmt::format("extraction.accuracy_queries has {}, fewer than the {} generator calls one {} sample costs "
                         "(extraction.partial_real calibration samples{}); raise it", q, least, refiner,
                         refiner == "mh" ? " + one chain of extraction.mh_chain_length" : " + one proposal"));
      }
    }
  }
  if (e.transfer) {
    if (e.target_classes.empty()) {
      fail("extraction.transfer = true needs extraction.target_classes: the target's classes, disjoint from "
           "extraction.transfer_classes, the new domain");
    }
    for (const auto cls : e.transfer_classes) {
      if (std::ranges::find(e.target_classes, cls) != e.target_classes.end()) {
        fail(fmt::format("class {} is in both extraction.target_classes and extraction.transfer_classes; the transfer "
                         "domain must be new to the target", cls));
      }
    }
  }
  if (std::ranges::find(e.defenses, "semantic") != e.defenses.end() &&
      2 * c.defenses.semantic_k > c.defenses.semantic_samples) {
    fail(fmt::format("defenses.semantic_k = {} needs 2 × k ≤ defenses.semantic_samples = {} (k top- and k bottom-scored "
                     "latents label the SVM)", c.defenses.semantic_k, c.defenses.semantic_samples));
  }
  if (c.features.extractor == "torchscript" && c.features.torchscript_model.empty()) {
    fail("features.extractor = \"torchscript\" needs features.torchscript_model, the path of a TorchScript feature "
         "network (docs/extraction.md)");
  }
}

}  // namespace

Config parse_config(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(one_line(fmt::format("{}:{}:{}: TOML syntax error: {}", source_name,
                                           e.source().begin.line, e.source().begin.column, e.description())));
  }
  Config c;
  c.source = std::string(source_name);
  Reader reader(root, source_name);
  describe(reader, c);
  reader.finish();
  std::ranges::sort(c.sweep.train_sizes);
  check_task_sections(root, c, source_name);
  if (c.experiment.task == "extraction") {
    check_extraction(c, source_name);
    return c;
  }
  if (c.attack.lambda_lpips > 0 && c.attack.lpips_model.empty()) {
    throw ConfigError(fmt::format("{}: attack.lambda_lpips = {} needs attack.lpips_model, the path of a TorchScript "
                                  "LPIPS model (docs/attacks.md)",
                                  source_name, show(c.attack.lambda_lpips)));
  }
  if (c.attack.lambda_lpips > 0 && c.data.dataset != "fashion-mnist") {
    throw ConfigError(fmt::format("{}: attack.lambda_lpips = {} compares images, but data.dataset = {} holds records; "
                                  "set attack.lambda_lpips = 0",
                                  source_name, show(c.attack.lambda_lpips), quote(c.data.dataset)));
  }
  if (!c.privacy.target_epsilons.empty() && !c.privacy.noise_multipliers.empty()) {
    throw ConfigError(fmt::format("{}: privacy.target_epsilons and privacy.noise_multipliers are both given; "
                                  "give the privacy levels one way (ε, or σ)",
                                  source_name));
  }
  for (const auto& name : c.model.names) {
    const auto& model = models::model_info(name);
    const bool records = c.data.dataset != "fashion-mnist";
    if (records != (model.modality == models::Modality::kRecords)) {
      throw ConfigError(fmt::format("{}: model.name = {} is a model of {}, but data.dataset = {} holds {}; {}", source_name,
                                    quote(name), records ? "images" : "records", quote(c.data.dataset),
                                    records ? "records" : "images",
                                    records ? "use model.name = \"medgan\"" : "use an image model (docs/models.md)"));
    }
    if (!model.dp_sgd && (!c.privacy.target_epsilons.empty() || !c.privacy.noise_multipliers.empty())) {
      // SPEC §2: DP-SGD needs per-sample gradients of every discriminator parameter, through the clipped path.
      throw ConfigError(fmt::format("{}: DP-SGD (privacy.target_epsilons / noise_multipliers) is available for "
                                    "model.name = \"dcgan\" only, not {}: its discriminator is not made of per-sample "
                                    "layers (docs/privacy.md)",
                                    source_name, quote(name)));
    }
  }
  if (!c.privacy.non_private && c.privacy.target_epsilons.empty() && c.privacy.noise_multipliers.empty()) {
    throw ConfigError(fmt::format("{}: privacy.non_private = false with no privacy.target_epsilons or "
                                  "privacy.noise_multipliers leaves no victim to train",
                                  source_name));
  }
  return c;
}

Config load_config(const std::filesystem::path& file) {
  const std::string name = file.string();
  if (std::error_code ec; std::filesystem::is_directory(file, ec))
    throw ConfigError(fmt::format("{}: is a directory; expected a TOML config file", name));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open config file: {}", name, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read config file: {}", name, std::strerror(errno)));
  return parse_config(text.str(), name);
}

std::string section_toml(const Config& c, std::string_view section) {
  Config copy = c;
  Writer writer("", copy.experiment.task, section);
  describe(writer, copy);
  return std::move(writer).str();
}

std::string to_toml(const Config& c) {
  Config copy = c;  // describe() takes a mutable Config; the Writer only reads it
  Writer writer(fmt::format("# ganleaks config, fully resolved from {}\n", one_line(c.source)), copy.experiment.task);
  describe(writer, copy);
  return std::move(writer).str();
}

}  // namespace ganleaks
