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

 private:
  std::variant<ImageSet, TabularSet> records_;
  int image_size_ = 0;
  std::int64_t count_ = 0;
  bool binary_ = false;
  std::vector<std::int64_t> labels_;
};

}  // namespace ganleaks::data
