#include "core/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "core/config_values.h"
#include "core/errors.h"

namespace ganleaks {
namespace {

using detail::escaped;
using detail::show;
using detail::show_field;

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

std::string range_text(FloatRange r) {
  return fmt::format("{}{}, {}{}", r.lo_open ? '(' : '[', r.lo, r.hi, r.hi_open ? ')' : ']');
}

toml::table parse_toml(std::string_view toml_text, std::string_view source) {
  try {
    return toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(one_line(fmt::format("{}:{}:{}: TOML syntax error: {}", source, e.source().begin.line,
                                           e.source().begin.column, e.description())));
  }
}


// ---- Reader: validates the TOML document table by table --------------------------------------------

class Reader final : public KeyVisitor {
 public:
  Reader(const toml::table& root, std::string_view source) : root_(root), source_(source) {}

  // Reports unknown keys of the last section and unknown sections.
  void finish(const std::function<std::string(std::string_view)>& other_sections) {
    close_section();
    for (const auto& [key, node] : root_) {
      if (std::ranges::find(sections_, key.str()) != sections_.end()) continue;
      if (node.is_table() && other_sections) {
        if (auto where = other_sections(key.str()); !where.empty()) throw ConfigError(one_line(fmt::format("{}: {}", source_, where)));
      }
      const auto what = node.is_table() ? fmt::format("section [{}]", key.str())
                                        : fmt::format("top-level key '{}'", key.str());
      fail("unknown {}; valid sections: {}", what, fmt::join(sections_, ", "));
    }
  }

 protected:
  // Closes the previous section (reporting its unknown keys) and opens `name`.
  void open_section(std::string_view name, std::size_t) override {
    close_section();
    sections_.push_back(name);
    name_ = name;
    const toml::node* n = root_.get(name);
    table_ = n ? n->as_table() : nullptr;
    if (n && !table_) fail("{} has wrong type ({}); expected a table [{}]", name, type_name(*n), name);
  }

  void key(const Key& key, KeyField field) override {
    keys_.push_back(key.name);
    const toml::node* n = table_ ? table_->get(key.name) : nullptr;
    if (!n) return;
    const std::string k = label(key.name);
    std::visit([&](auto* value) { read(key, *n, k, *value); }, field);
  }

 private:
  void read(const Key& key, const toml::node& n, const std::string& k, std::int64_t& v) const {
    v = key.numbers.empty() ? int_in(n, k, key.ints) : one_of(n, k, key.numbers);
  }
  void read(const Key&, const toml::node& n, const std::string& k, bool& v) const { v = typed<bool>(n, k, "a boolean"); }
  void read(const Key& key, const toml::node& n, const std::string& k, double& v) const { v = real_in(n, k, key.reals); }
  void read(const Key& key, const toml::node& n, const std::string& k, std::string& v) const {
    if (!key.words.empty()) {
      v = std::string(one_of(n, k, key.words));
      return;
    }
    std::string text = typed<std::string>(n, k, key.text.expected);
    if (!key.text.ok(text)) fail("{} = {} is not allowed; expected {}", k, show(text), key.text.expected);
    v = std::move(text);
  }
  void read(const Key& key, const toml::node& n, const std::string& k, std::vector<std::int64_t>& v) const {
    list(n, k, v, "integers", [&](const toml::node& e, const std::string& ek) { return int_in(e, ek, key.ints); },
         key.may_be_empty);
  }
  void read(const Key& key, const toml::node& n, const std::string& k, std::vector<double>& v) const {
    list(n, k, v, "floats", [&](const toml::node& e, const std::string& ek) { return real_in(e, ek, key.reals); },
         key.may_be_empty);
  }
  void read(const Key& key, const toml::node& n, const std::string& k, std::vector<std::string>& v) const {
    if (key.one_or_array && !n.is_array()) {
      v = {std::string(one_of(n, k, key.words))};
      return;
    }
    list(n, k, v, "strings",
         [&](const toml::node& e, const std::string& ek) { return std::string(one_of(e, ek, key.words)); },
         key.may_be_empty);
  }
  void read(const Key& key, const toml::node& n, const std::string& k, std::vector<bool>& v) const {
    list(n, k, v, "booleans", [&](const toml::node& e, const std::string& ek) { return typed<bool>(e, ek, "a boolean"); },
         key.may_be_empty);
  }

  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    throw ConfigError(one_line(fmt::format("{}: {}", source_, fmt::format(format, std::forward<Args>(args)...))));
  }

  std::string label(std::string_view key) const { return fmt::format("{}.{}", name_, key); }

  void close_section() {
    if (table_) {
      for (const auto& [key, node] : *table_) {
        if (std::ranges::find(keys_, key.str()) == keys_.end()) {
          fail("unknown key '{}.{}'; valid keys in [{}]: {}", name_, key.str(), name_, fmt::join(keys_, ", "));
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
    const std::string expected = "a float in " + range_text(r);
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

  template <class A>
  A one_of(const toml::node& n, const std::string& k, std::span<const A> allowed) const {
    constexpr bool kText = std::is_same_v<A, std::string_view>;
    const auto expected = fmt::format("{}one of: {}", kText ? "a string, " : "an integer, ", fmt::join(allowed, ", "));
    const auto v = typed<std::conditional_t<kText, std::string, std::int64_t>>(n, k, expected);
    const auto it = std::ranges::find(allowed, v);
    if (it == allowed.end()) fail("{} = {} is not allowed; expected one of: {}", k, show(v), fmt::join(allowed, ", "));
    return *it;
  }

  // An array of unique elements, each read by `element(node, "section.key[i]")`.
  template <class T, class Element>
  void list(const toml::node& n, const std::string& k, std::vector<T>& field, std::string_view what, Element element,
            bool may_be_empty) const {
    const toml::array* array = n.as_array();
    if (!array) fail("{} has wrong type ({}); expected an array of {}", k, type_name(n), what);
    if (array->empty() && !may_be_empty) fail("{} = [] is empty; expected a non-empty array of {}", k, what);
    std::vector<T> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const T v = element(*array->get(i), fmt::format("{}[{}]", k, i));
      if (std::ranges::find(out, v) != out.end()) fail("{} contains {} twice; expected unique values", k, show(v));
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

// ---- Writer: every key as TOML, in declaration order ------------------------------------------------

class Writer final : public KeyVisitor {
 public:
  Writer(std::string header, std::string_view only) : out_(std::move(header)), only_(only) {}
  std::string str() && { return std::move(out_); }

 protected:
  void open_section(std::string_view name, std::size_t) override {
    skipping_ = !only_.empty() && name != only_;
    if (!skipping_) out_ += fmt::format("\n[{}]\n", name);
  }
  void key(const Key& key, KeyField field) override {
    if (!skipping_) out_ += fmt::format("{} = {}\n", key.name, show_field(key, field));
  }

 private:
  std::string out_;
  std::string_view only_;
  bool skipping_ = false;
};

}  // namespace

std::string quote(std::string_view s) { return fmt::format("\"{}\"", escaped(s, true)); }

std::string show_real(double v) {
  std::string s = fmt::format("{}", v);  // shortest representation that round-trips
  if (s.find_first_not_of("-0123456789") == std::string::npos) s += ".0";  // keep it a TOML float
  return s;
}

// Messages are one line: control characters (from quoted keys or parser text) become escapes.
std::string one_line(std::string_view s) { return escaped(s, false); }

void read_config(std::string_view toml_text, std::string_view source, const ConfigVisit& visit,
                 const std::function<std::string(std::string_view)>& other_sections) {
  const auto root = parse_toml(toml_text, source);
  Reader reader(root, source);
  visit(reader);
  reader.finish(other_sections);
}

std::string write_config(const std::string& header, const ConfigVisit& visit, std::string_view only) {
  Writer writer(header, only);
  visit(writer);
  return std::move(writer).str();
}


std::string peek_text(std::string_view toml_text, std::string_view source, std::string_view section,
                      std::string_view key, const std::string& fallback) {
  const auto root = parse_toml(toml_text, source);
  const auto* table = root.get(section) ? root.get(section)->as_table() : nullptr;
  const auto* node = table ? table->get(key) : nullptr;
  if (!node) return fallback;
  if (const auto* text = node->as_string()) return text->get();
  throw ConfigError(one_line(fmt::format("{}: {}.{} = {} has wrong type ({}); expected a string", source, section, key,
                                         written(*node), type_name(*node))));
}

VariantsSplit split_variants(std::string_view toml_text, std::string_view source,
                             std::span<const std::string_view> overridable) {
  auto root = parse_toml(toml_text, source);
  VariantsSplit out{.rest = std::string(toml_text)};  // the text as written when it has no variants
  if (const auto* node = root.get("variant")) {
    const auto fail = [&](const std::string& message) { throw ConfigError(one_line(fmt::format("{}: {}", source, message))); };
    const auto* array = node->as_array();
    if (!array || !array->is_array_of_tables()) {
      fail(fmt::format("variant has wrong type ({}); expected [[variant]] tables, each with a label", type_name(*node)));
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const auto& table = *array->get(i)->as_table();
      const auto* label = table.get("label");
      const std::string where = fmt::format("variant[{}]", i);
      if (!label || !label->is_string()) fail(where + " has no label; expected label = \"<name>\" (1 to 64 characters from [A-Za-z0-9_.-])");
      ConfigVariant variant{.label = label->as_string()->get()};
      if (!kName.ok(variant.label)) {
        fail(fmt::format("{}.label = {} is not allowed; expected {}", where, quote(variant.label), kName.expected));
      }
      if (std::ranges::any_of(out.variants, [&](const ConfigVariant& v) { return v.label == variant.label; })) {
        fail(fmt::format("variant label {} is given twice; expected unique labels", quote(variant.label)));
      }
      toml::table sections;
      for (const auto& [key, value] : table) {
        if (key.str() == "label") continue;
        if (!value.is_table() || std::ranges::find(overridable, key.str()) == overridable.end()) {
          fail(fmt::format("variant {}: '{}' cannot vary between variants; a variant sets keys of [{}] (as "
                           "`attack.wb_init = \"zero\"`)", quote(variant.label), key.str(), fmt::join(overridable, "], [")));
        }
        sections.insert(key.str(), value);
      }
      std::ostringstream text;
      text << sections;
      variant.overrides = text.str() + "\n";
      out.variants.push_back(std::move(variant));
    }
    root.erase("variant");
    std::ostringstream rest;
    rest << root;
    out.rest = rest.str() + "\n";
  }
  return out;
}

std::string apply_overrides(std::string_view base, const ConfigVariant& variant) {
  auto root = parse_toml(base, "the resolved config");
  const auto overrides = parse_toml(variant.overrides, variant.label);
  for (const auto& [section, keys] : overrides) {
    auto* target = root.get(section) ? root.get(section)->as_table() : nullptr;
    if (!target) target = root.insert_or_assign(section, toml::table{}).first->second.as_table();
    for (const auto& [key, value] : *keys.as_table()) target->insert_or_assign(key, value);
  }
  std::ostringstream text;
  text << root;
  return text.str() + "\n";
}

std::string variants_toml(const std::vector<ConfigVariant>& variants) {
  toml::array tables;
  for (const auto& v : variants) {
    auto table = parse_toml(v.overrides, v.label);
    table.insert("label", v.label);
    tables.push_back(std::move(table));
  }
  if (tables.empty()) return "";
  toml::table root{{"variant", std::move(tables)}};
  std::ostringstream text;
  text << root;
  return text.str() + "\n";
}

std::string read_config_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  if (std::error_code ec; std::filesystem::is_directory(file, ec))
    throw ConfigError(fmt::format("{}: is a directory; expected a TOML config file", name));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open config file: {}", name, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read config file: {}", name, std::strerror(errno)));
  return text.str();
}

}  // namespace ganleaks
