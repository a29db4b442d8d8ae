#pragma once
// Experiment configuration as declared keys. A config section is a plain struct: its members hold the keys'
// defaults, and its visit() declares every key once, right below it, with its name, type, bounds and a one-line
// doc. Visitors do the rest from that one declaration: the reader validates TOML into the struct (one-line
// ConfigError naming the source, the dotted key, the value and what is allowed), the writer prints the resolved
// TOML, the documenter prints configs/README.md's key tables, and a checker counts that every member is declared.
// A task's config is a list of sections, declared in the task's folder; core knows none of them.
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ganleaks {

struct IntRange {
  std::int64_t lo, hi;
};
struct FloatRange {
  double lo, hi;
  bool lo_open, hi_open;
};
struct TextRule {
  std::string_view expected;  // for messages and the key table: "a non-empty string"
  bool (*ok)(std::string_view);
};

inline constexpr TextRule kNonEmpty{"a non-empty string", [](std::string_view s) { return !s.empty(); }};
inline constexpr TextRule kAnyText{"a string", [](std::string_view) { return true; }};
inline constexpr TextRule kFilePath{"a file's path, or \"\" for none", [](std::string_view) { return true; }};
inline constexpr TextRule kName{"1 to 64 characters from [A-Za-z0-9_.-]", [](std::string_view s) {
                                  constexpr std::string_view chars =
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
                                  return !s.empty() && s.size() <= 64 && s.find_first_not_of(chars) == s.npos;
                                }};

inline constexpr FloatRange kLearningRate{0.0, 1.0, true, false};  // (0, 1]
inline constexpr FloatRange kAdamBeta{0.0, 1.0, false, true};      // [0, 1)
inline constexpr FloatRange kRegulariser{0.0, 1e6, false, false};  // [0, 1e6]
inline constexpr FloatRange kPositive{0.0, 1e6, true, false};      // (0, 1e6]
inline constexpr FloatRange kProbability{0.0, 1.0, false, false};  // [0, 1]
inline constexpr FloatRange kOpenUnit{0.0, 1.0, true, true};       // (0, 1)
inline constexpr FloatRange kStrength{0.0, 1e3, false, false};     // [0, 1000]
inline constexpr std::int64_t kMaxSeed = std::int64_t{1} << 53;    // seeds stay exact as TOML floats and in JSON

// One key as declared: what TOML value it takes and what it means.
struct Key {
  enum class Type { kInteger, kReal, kText, kBoolean, kIntegers, kReals, kTexts, kBooleans };
  std::string_view name;
  Type type = Type::kInteger;
  std::string_view doc;                        // the meaning, one line (configs/README.md's last column)
  IntRange ints{0, 0};                         // kInteger, kIntegers (unless `numbers`)
  std::span<const std::int64_t> numbers;       // kInteger: only these values
  FloatRange reals{0, 0, false, false};        // kReal, kReals
  TextRule text = kAnyText;                    // kText (unless `words`)
  std::span<const std::string_view> words;     // kText, kTexts: only these values
  bool may_be_empty = false;                   // arrays: [] allowed
  bool one_or_array = false;                   // kTexts: one string also accepted (and written when alone)
  bool affects_results = true;                 // false: where results go or run (name, device), not what they are
};

// The member a key reads and writes, as the visitor sees it (integers of every width as int64).
using KeyField = std::variant<std::int64_t*, double*, std::string*, bool*, std::vector<std::int64_t>*,
                              std::vector<double>*, std::vector<std::string>*, std::vector<bool>*>;

namespace detail {
// The number of members of an aggregate (the count of initialisers it takes): the checker compares it with
// the number of keys a section declares, so that a member without a declaration fails a test.
struct AnyValue {
  template <class T>
  constexpr operator T() const;  // never defined: only used where nothing is evaluated
};
template <class T, std::size_t... I>
constexpr bool initialisable(std::index_sequence<I...>) {
  return requires { T{(void(I), AnyValue{})...}; };
}
template <class T, std::size_t N = 0>
constexpr std::size_t member_count() {
  if constexpr (N > 64 || !initialisable<T>(std::make_index_sequence<N + 1>{})) {
    return N;
  } else {
    return member_count<T, N + 1>();
  }
}
}  // namespace detail

// A section: a struct with `static constexpr std::string_view kSection` and `void visit(KeyVisitor&)`.
class KeyVisitor;
template <class S>
concept ConfigSection = requires(S s, KeyVisitor& v) {
  { S::kSection } -> std::convertible_to<std::string_view>;
  s.visit(v);
};

class KeyVisitor {
 public:
  virtual ~KeyVisitor() = default;

  // Opens a section (its keys follow) and declares its keys.
  template <ConfigSection S>
  void section(S& s) {
    open_section(S::kSection, detail::member_count<S>());
    s.visit(*this);
  }

  template <std::integral T>
  void integer(std::string_view name, T& field, IntRange range, std::string_view doc) {
    integral(Key{.name = name, .type = Key::Type::kInteger, .doc = doc, .ints = range}, field);
  }
  // An integer from a fixed list of values (data.image_size = 28 or 32).
  template <std::integral T>
  void integer(std::string_view name, T& field, std::span<const std::int64_t> allowed, std::string_view doc) {
    integral(Key{.name = name, .type = Key::Type::kInteger, .doc = doc, .numbers = allowed}, field);
  }
  void real(std::string_view name, double& field, FloatRange range, std::string_view doc) {
    key(Key{.name = name, .type = Key::Type::kReal, .doc = doc, .reals = range}, &field);
  }
  void text(std::string_view name, std::string& field, TextRule rule, std::string_view doc,
            bool affects_results = true) {
    key(Key{.name = name, .type = Key::Type::kText, .doc = doc, .text = rule, .affects_results = affects_results},
        &field);
  }
  void choice(std::string_view name, std::string& field, std::span<const std::string_view> allowed, std::string_view doc,
              bool affects_results = true) {
    key(Key{.name = name, .type = Key::Type::kText, .doc = doc, .words = allowed, .affects_results = affects_results},
        &field);
  }
  void boolean(std::string_view name, bool& field, std::string_view doc, bool affects_results = true) {
    key(Key{.name = name, .type = Key::Type::kBoolean, .doc = doc, .affects_results = affects_results}, &field);
  }
  // Arrays hold unique values.
  template <std::integral T>
  void integers(std::string_view name, std::vector<T>& field, IntRange range, std::string_view doc,
                bool may_be_empty = false) {
    const Key k{.name = name, .type = Key::Type::kIntegers, .doc = doc, .ints = range, .may_be_empty = may_be_empty};
    if constexpr (std::is_same_v<T, std::int64_t>) {
      key(k, &field);
    } else {
      std::vector<std::int64_t> wide(field.begin(), field.end());
      key(k, &wide);
      field.assign(wide.begin(), wide.end());
    }
  }
  void reals(std::string_view name, std::vector<double>& field, FloatRange range, std::string_view doc,
             bool may_be_empty = true) {
    key(Key{.name = name, .type = Key::Type::kReals, .doc = doc, .reals = range, .may_be_empty = may_be_empty}, &field);
  }
  void choices(std::string_view name, std::vector<std::string>& field, std::span<const std::string_view> allowed,
               std::string_view doc, bool may_be_empty = false) {
    key(Key{.name = name, .type = Key::Type::kTexts, .doc = doc, .words = allowed, .may_be_empty = may_be_empty},
        &field);
  }
  // One allowed string, or an array of unique ones (a sweep dimension: model.name).
  void one_or_more(std::string_view name, std::vector<std::string>& field, std::span<const std::string_view> allowed,
                   std::string_view doc) {
    key(Key{.name = name, .type = Key::Type::kTexts, .doc = doc, .words = allowed, .one_or_array = true}, &field);
  }
  void booleans(std::string_view name, std::vector<bool>& field, std::string_view doc) {
    key(Key{.name = name, .type = Key::Type::kBooleans, .doc = doc}, &field);
  }

 protected:
  // `members`: how many members the section's struct has (every one must be declared as a key).
  virtual void open_section(std::string_view name, std::size_t members) = 0;
  virtual void key(const Key& key, KeyField field) = 0;

 private:
  template <std::integral T>
  void integral(const Key& k, T& field) {
    if constexpr (std::is_same_v<T, std::int64_t>) {
      key(k, &field);
    } else {
      auto wide = static_cast<std::int64_t>(field);
      key(k, &wide);
      field = static_cast<T>(wide);
    }
  }
};

// A task's whole config as the visitor sees it: its sections in order.
using ConfigVisit = std::function<void(KeyVisitor&)>;

// Reads TOML text into the sections `visit` declares: unknown sections and keys, wrong types, values out of range
// or not allowed, empty or repeated array elements are ConfigErrors naming `source`. `other_sections` maps a section
// this config does not have to a line on where it belongs (another task's), for a clearer message.
void read_config(std::string_view toml_text, std::string_view source, const ConfigVisit& visit,
                 const std::function<std::string(std::string_view section)>& other_sections = {});
// The resolved TOML of every key (`header` first), or of the one section `only` ("[train]\n...").
std::string write_config(const std::string& header, const ConfigVisit& visit, std::string_view only = "");
// configs/README.md's table of one section: key, type, default (the values `visit` sees), allowed, meaning.
std::string key_table_markdown(const ConfigVisit& visit, std::string_view section);
// The sections `visit` declares, in order.
std::vector<std::string> section_names(const ConfigVisit& visit);
// Every declared key, with its section, in order.
std::vector<std::pair<std::string, Key>> declared_keys(const ConfigVisit& visit);
// Sections whose declared keys are fewer than the struct's members ("train: 11 members, 10 keys"), for tests.
std::vector<std::string> undeclared_members(const ConfigVisit& visit);

// A string key of the TOML text (experiment.task), `fallback` when absent; ConfigError for a syntax error or a
// value that is not a string.
std::string peek_text(std::string_view toml_text, std::string_view source, std::string_view section,
                      std::string_view key, const std::string& fallback);
// A config's [[variant]] tables: arms of an ablation, each a `label` and keys of some sections set otherwise than
// in the rest of the file ("[[variant]]\nlabel = \"paper\"\nattack.wb_max_evaluations = 1000").
struct ConfigVariant {
  std::string label;
  std::string overrides;  // TOML of the sections it sets ("[attack]\nwb_max_evaluations = 1000\n")
  bool operator==(const ConfigVariant&) const = default;
};
struct VariantsSplit {
  std::string rest;                     // the TOML text without its [[variant]] tables
  std::vector<ConfigVariant> variants;  // in file order
};
// Takes the [[variant]] tables out of `toml_text`. ConfigError naming `source` and the variant when one is not a
// table, has no valid `label` (kName) or repeats one, or sets a key outside the sections in `overridable`.
VariantsSplit split_variants(std::string_view toml_text, std::string_view source,
                             std::span<const std::string_view> overridable);
// `base` (a whole config's TOML) with a variant's overrides applied, key by key.
std::string apply_overrides(std::string_view base, const ConfigVariant& variant);
// The [[variant]] tables again, as TOML (what split_variants read back).
std::string variants_toml(const std::vector<ConfigVariant>& variants);

// The text of a config file; ConfigError naming it when it is missing, a directory or unreadable.
std::string read_config_file(const std::filesystem::path& file);

// TOML formatting, also for cross-key messages: "text" quoted with escapes; a float that stays a float (1.0);
// a message folded to one line (control characters escaped).
std::string quote(std::string_view s);
std::string show_real(double v);
std::string one_line(std::string_view s);

// The whole config of type C (a struct with `std::string source` and `void visit(KeyVisitor&)`), resolved.
template <class C>
std::string to_toml(const C& c) {
  C copy = c;  // visit() takes a mutable config; writing only reads it
  return write_config("# ganleaks config, fully resolved from " + one_line(c.source) + "\n",
                      [&](KeyVisitor& v) { copy.visit(v); });
}
// One section of it ("train" -> "[train]\n..."); what job hashes are made of.
template <class C>
std::string section_toml(const C& c, std::string_view section) {
  C copy = c;
  return write_config("", [&](KeyVisitor& v) { copy.visit(v); }, section);
}

}  // namespace ganleaks
