#pragma once
// Whether every config key reaches the job hashes of a task's plan, tested against the keys' declarations: each key
// in turn is given another value the task accepts (the rest of the config unchanged); a key that affects results
// must change some job's hash or the set of jobs (else a finished job would be reused for settings it was not made
// with), and a key declared not to (where results go) must change nothing. Keys that no single change can move
// without breaking a rule between keys are returned apart, for the test to name.
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/config.h"
#include "core/errors.h"
#include "runner/plan.h"

namespace ganleaks::test_support {

// Values to try for a key instead of `current`, in order.
template <class T>
std::vector<T> alternatives(const Key& key, const T& current) {
  std::vector<T> out;
  const auto add = [&](const T& v) {
    if (v != current && std::ranges::find(out, v) == out.end()) out.push_back(v);
  };
  if constexpr (std::is_same_v<T, std::int64_t>) {
    if (!key.numbers.empty()) {
      for (const auto n : key.numbers) add(n);
    } else {
      for (const auto v : {current + 1, current - 1, key.ints.lo, key.ints.hi}) {
        if (v >= key.ints.lo && v <= key.ints.hi) add(v);
      }
    }
  } else if constexpr (std::is_same_v<T, double>) {
    const auto in = [&](double v) {
      const auto& r = key.reals;
      return std::isfinite(v) && (r.lo_open ? v > r.lo : v >= r.lo) && (r.hi_open ? v < r.hi : v <= r.hi);
    };
    for (const double v : {current * 2, current / 2, current + 0.1, (key.reals.lo + key.reals.hi) / 2, key.reals.lo,
                           key.reals.hi}) {
      if (in(v)) add(v);
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    add(!current);
  } else if constexpr (std::is_same_v<T, std::string>) {
    for (const auto w : key.words) add(std::string(w));
    if (key.words.empty()) {
      for (const std::string v : {current + "x", std::string("x")}) {
        if (key.text.ok(v)) add(v);
      }
    }
  } else {  // arrays
    using E = typename T::value_type;
    const auto element_options = [&] {
      std::vector<E> options;
      if constexpr (std::is_same_v<E, std::string>) {
        for (const auto w : key.words) options.push_back(std::string(w));
      } else {
        Key scalar = key;
        scalar.type = std::is_same_v<E, double> ? Key::Type::kReal : Key::Type::kInteger;
        const E start = current.empty() ? (std::is_same_v<E, double> ? E(key.reals.lo) : E(key.ints.lo)) : current.back();
        if constexpr (std::is_same_v<E, bool>) {
          options = {true, false};
        } else {
          options = alternatives<E>(scalar, start);
          options.insert(options.begin(), start);
        }
      }
      return options;
    }();
    for (const auto& e : element_options) {  // one more element
      if (std::ranges::find(current, e) == current.end()) {
        auto more = current;
        more.push_back(e);
        add(more);
      }
    }
    if (current.size() > 1 || (key.may_be_empty && !current.empty())) add(T(current.begin(), current.end() - 1));
    for (const auto& e : element_options) {  // another single element
      if (std::ranges::find(current, e) == current.end()) add(T{e});
    }
  }
  return out;
}

// Sets key number `index` (in declaration order) to its `choice`-th alternative; `found` says whether it had one.
class Perturber final : public KeyVisitor {
 public:
  Perturber(std::size_t index, std::size_t choice) : index_(index), choice_(choice) {}
  bool found = false;
  std::string value;  // what it was set to, for messages

 protected:
  void open_section(std::string_view, std::size_t) override {}
  void key(const Key& key, KeyField field) override {
    if (count_++ != index_) return;
    std::visit(
        [&](auto* v) {
          const auto options = alternatives(key, *v);
          if (choice_ >= options.size()) return;
          *v = options[choice_];
          found = true;
          if constexpr (std::is_same_v<std::decay_t<decltype(*v)>, std::string>) {
            value = *v;
          } else if constexpr (std::is_arithmetic_v<std::decay_t<decltype(*v)>>) {
            value = fmt::format("{}", *v);
          } else {
            value = fmt::format("an array of {}", v->size());
          }
        },
        field);
  }

 private:
  std::size_t index_, choice_, count_ = 0;
};

// The jobs' hashes by name, as the runner makes them.
inline std::map<std::string, std::string> job_hashes(std::vector<runner::Job> jobs) {
  runner::hash_jobs(jobs);
  std::map<std::string, std::string> out;
  for (const auto& job : jobs) out[job.name] = job.hash;
  return out;
}

// The keys of [model] that only ddpm reads (models::diffusion_hash_text): a plan of other models leaves them unused.
inline const std::vector<std::string> kDiffusionKeys{"model.diffusion_steps", "model.beta_schedule",
                                                     "model.sampling_steps",  "model.ema_decay",
                                                     "model.unet_blocks",     "model.attention"};

struct KeyUsage {
  std::vector<std::string> unused;        // affect results, but change no job's hash
  std::vector<std::string> misdeclared;   // declared not to affect results, but change the plan
  std::vector<std::string> immovable;     // no other value the task accepts on its own
};

// `parse` reads a resolved TOML text (and applies the rules between keys); `plan` maps job names to hashes.
template <class Config>
KeyUsage key_usage(const Config& base, const std::function<Config(const std::string&)>& parse,
                   const std::function<std::map<std::string, std::string>(const Config&)>& plan) {
  KeyUsage usage;
  Config copy = base;
  const auto keys = declared_keys([&](KeyVisitor& v) { copy.visit(v); });
  const auto reference = plan(base);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& [section, key] = keys[i];
    const auto name = section + "." + std::string(key.name);
    if (name == "experiment.task") continue;  // it chooses the task, and with it the config
    std::optional<bool> changed;
    for (std::size_t choice = 0; !changed; ++choice) {
      Config perturbed = base;
      Perturber perturber(i, choice);
      perturbed.visit(perturber);
      if (!perturber.found) break;
      try {
        changed = plan(parse(to_toml(perturbed))) != reference;
      } catch (const ConfigError&) {
        // another rule between keys refuses this value alone: try the next
      }
    }
    if (!changed) {
      usage.immovable.push_back(name);
    } else if (*changed != key.affects_results) {
      (key.affects_results ? usage.unused : usage.misdeclared).push_back(name);
    }
  }
  return usage;
}

}  // namespace ganleaks::test_support
