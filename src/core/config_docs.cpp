// The key declarations as documentation (configs/README.md's tables, `ganleaks keys`) and as lists for tests: the
// sections, the keys, and the struct members a section does not declare.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>
#include <cmath>

#include "core/config.h"
#include "core/config_values.h"

namespace ganleaks {
namespace {

using detail::show_field;

// ---- Documenter: one section's key table --------------------------------------------------------------

// 1000000000 -> 10^9, 9007199254740992 -> 2^53; small numbers as they are.
std::string number_text(std::int64_t v) {
  if (v >= 1'000'000) {
    int ten = 0;
    std::int64_t x = v;
    while (x % 10 == 0) x /= 10, ++ten;
    if (x == 1) return fmt::format("10^{}", ten);
    if ((v & (v - 1)) == 0) return fmt::format("2^{}", std::countr_zero(static_cast<std::uint64_t>(v)));
  }
  return fmt::format("{}", v);
}

std::string real_text(double v) {
  if (v >= 1e6 && v == std::floor(v) && v < 9e18) return number_text(static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

std::string words_text(std::span<const std::string_view> words) {
  std::vector<std::string> quoted;
  for (const auto w : words) quoted.push_back(fmt::format("`{}`", w));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

std::string allowed_text(const Key& key) {
  const auto ints = fmt::format("[{}, {}]", number_text(key.ints.lo), number_text(key.ints.hi));
  const auto reals = fmt::format("{}{}, {}{}", key.reals.lo_open ? '(' : '[', real_text(key.reals.lo),
                                 real_text(key.reals.hi), key.reals.hi_open ? ')' : ']');
  const std::string array = key.may_be_empty ? "unique" : "non-empty, unique";
  switch (key.type) {
    case Key::Type::kInteger: {
      if (key.numbers.empty()) return ints;
      std::vector<std::string> quoted;
      for (const auto n : key.numbers) quoted.push_back(fmt::format("`{}`", n));
      return fmt::format("{}", fmt::join(quoted, ", "));
    }
    case Key::Type::kReal: return reals;
    case Key::Type::kText: return key.words.empty() ? std::string(key.text.expected) : words_text(key.words);
    case Key::Type::kBoolean: return "";
    case Key::Type::kIntegers: return fmt::format("{}, each in {}", array, ints);
    case Key::Type::kReals: return fmt::format("{}, each in {}", array, reals);
    case Key::Type::kTexts: return fmt::format("{}, from {}", key.one_or_array ? "one, or an array of unique" : array,
                                               words_text(key.words));
    case Key::Type::kBooleans: return array;
  }
  return "";
}

std::string_view type_text(const Key& key) {
  switch (key.type) {
    case Key::Type::kInteger: return "integer";
    case Key::Type::kReal: return "float";
    case Key::Type::kText: return "string";
    case Key::Type::kBoolean: return "boolean";
    case Key::Type::kIntegers: return "array of integers";
    case Key::Type::kReals: return "array of floats";
    case Key::Type::kTexts: return key.one_or_array ? "string or array of strings" : "array of strings";
    case Key::Type::kBooleans: return "array of booleans";
  }
  return "";
}

class Documenter final : public KeyVisitor {
 public:
  explicit Documenter(std::string_view section) : section_(section) {}
  std::string str() && { return std::move(out_); }

 protected:
  void open_section(std::string_view name, std::size_t) override {
    inside_ = name == section_;
    if (inside_) out_ = "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
  }
  void key(const Key& key, KeyField field) override {
    if (!inside_) return;
    out_ += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", key.name, type_text(key), show_field(key, field),
                        allowed_text(key), key.doc);
  }

 private:
  std::string_view section_;
  std::string out_;
  bool inside_ = false;
};

// ---- Listing: sections, keys, and the members every section must declare ----------------------------

class Lister final : public KeyVisitor {
 public:
  struct Section {
    std::string name;
    std::size_t members = 0, keys = 0;
  };
  std::vector<Section> sections;
  std::vector<std::pair<std::string, Key>> keys;

 protected:
  void open_section(std::string_view name, std::size_t members) override {
    sections.push_back({std::string(name), members, 0});
  }
  void key(const Key& key, KeyField) override {
    ++sections.back().keys;
    keys.emplace_back(sections.back().name, key);
  }
};

Lister listed(const ConfigVisit& visit) {
  Lister lister;
  visit(lister);
  return lister;
}

}  // namespace

std::string key_table_markdown(const ConfigVisit& visit, std::string_view section) {
  Documenter documenter(section);
  visit(documenter);
  return std::move(documenter).str();
}

std::vector<std::string> section_names(const ConfigVisit& visit) {
  std::vector<std::string> out;
  for (const auto& s : listed(visit).sections) out.push_back(s.name);
  return out;
}

std::vector<std::pair<std::string, Key>> declared_keys(const ConfigVisit& visit) { return listed(visit).keys; }

std::vector<std::string> undeclared_members(const ConfigVisit& visit) {
  std::vector<std::string> out;
  for (const auto& s : listed(visit).sections) {
    if (s.keys != s.members) out.push_back(fmt::format("[{}]: {} members, {} declared keys", s.name, s.members, s.keys));
  }
  return out;
}


}  // namespace ganleaks
