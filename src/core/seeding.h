#pragma once
// Portable, platform-independent random streams.
//
// The standard library's distributions (and std::shuffle) are implementation-defined, so splits drawn
// with them could differ between libstdc++ versions. Everything here is specified bit for bit:
// SplitMix64 for seed derivation, mt19937_64 for the stream (its output is fixed by the
// standard), and our own unbiased bounded integers and Fisher-Yates shuffle.
#include <cstdint>
#include <random>
#include <span>
#include <string_view>

namespace ganleaks {

// One SplitMix64 step: a strong 64-bit mixer (Steele et al. 2014).
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// FNV-1a of a tag, so that streams for different purposes ("split", "train", ...) never coincide.
constexpr std::uint64_t hash_tag(std::string_view tag) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : tag) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

// Seed of an independent stream identified by (base seed, purpose, index).
constexpr std::uint64_t derive_seed(std::uint64_t base, std::string_view tag, std::uint64_t index = 0) {
  return splitmix64(splitmix64(base ^ hash_tag(tag)) ^ splitmix64(index + 0x632BE59BD9B4E019ULL));
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }

  // The engine's state streams as text (operator<< / >>), which is how checkpoints keep it.
  std::mt19937_64& engine() { return engine_; }
  const std::mt19937_64& engine() const { return engine_; }

  // Uniform integer in [0, n) by rejection (unbiased). n must be > 0.
  std::uint64_t uniform(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    std::uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return x % n;
  }

  // Fisher-Yates shuffle, identical on every platform.
  template <class T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[uniform(i)]);
    }
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace ganleaks
