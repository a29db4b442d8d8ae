#pragma once
// The records a sweep draws its splits from (data.dataset), as the tensors the models take: images
// (n, 1, S, S) in [-1, 1], or tabular records (n, features) as stored (binary records are 0/1).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "data/config.h"
#include "data/idx.h"
#include "data/tabular.h"

namespace ganleaks::data {

class Pool {
 public:
  // Loads data.dataset from data.path (data.pool selects Fashion-MNIST's part); DataError naming the file
  // when it is missing or malformed.
  static Pool load(const DataConfig& config);
  Pool(ImageSet images, int image_size);
  explicit Pool(TabularSet records);

  std::int64_t size() const { return count_; }
  std::span<const std::int64_t> labels() const { return labels_; }  // one per record, or empty
  bool images() const { return std::holds_alternative<ImageSet>(records_); }
  bool binary() const { return binary_; }  // every value 0 or 1 (attacks use Hamming distance)

  at::Tensor rows(std::span<const std::int64_t> indices) const;

  // Crafted records (the audit's canaries): a record of this pool with every value reflected in the data's range
  // (255 − pixel for images, 1 − x for records in [0, 1]), or uniform noise in that range from a seeded stream
  // (uniform bytes; U(0, 1) features; fair coin flips for binary records).
  struct Crafted {
    enum class Kind { kInverted, kNoise } kind = Kind::kInverted;
    std::int64_t source = 0;  // kInverted: the row reflected
    std::uint64_t seed = 0;   // kNoise: its stream
  };
  // This pool with `crafted` appended as rows size() .. size() + crafted.size() − 1, labelled like their source
  // (noise: label 0); a copy, the pool itself unchanged.
  Pool with_crafted(std::span<const Crafted> crafted) const;

 private:
  std::variant<ImageSet, TabularSet> records_;
  int image_size_ = 0;
  std::int64_t count_ = 0;
  bool binary_ = false;
  std::vector<std::int64_t> labels_;
};

}  // namespace ganleaks::data
