#include "data/splits.h"

#include <algorithm>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>

#include "core/errors.h"
#include "core/seeding.h"

namespace ganleaks::data {

namespace {

std::vector<std::int64_t> checked_permutation(const SplitSizes& sizes, std::uint64_t seed) {
  const auto [pool, reference, holdout, max_train] = sizes;
  const std::string parts = "reference " + std::to_string(reference) + " (data.reference_size) + hold-out " +
                            std::to_string(holdout) + " (attack.max_queries) + largest training set " +
                            std::to_string(max_train) + " (max of sweep.train_sizes)";
  if (pool < 0 || reference < 0 || holdout < 0 || max_train < 0) {
    throw ConfigError("split sizes must not be negative: pool " + std::to_string(pool) + ", " + parts);
  }
  // Compared by subtraction so that absurdly large sizes cannot overflow the sum.
  if (reference > pool || holdout > pool - reference || max_train > pool - reference - holdout) {
    throw ConfigError("the dataset pool has " + std::to_string(pool) + " records, fewer than " + parts +
                      "; shrink those settings or use a larger data pool");
  }
  std::vector<std::int64_t> perm(static_cast<std::size_t>(pool));
  std::iota(perm.begin(), perm.end(), std::int64_t{0});
  Rng(derive_seed(seed, "splits")).shuffle(std::span(perm));
  return perm;
}

}  // namespace

SeedSplits make_splits(const SplitSizes& sizes, std::uint64_t seed) {
  const auto perm = checked_permutation(sizes, seed);
  const auto [pool, reference, holdout, max_train] = sizes;
  const auto cut = [&](std::int64_t begin, std::int64_t count) {
    return std::vector<std::int64_t>(perm.begin() + begin, perm.begin() + begin + count);
  };
  return {cut(0, reference), cut(reference, holdout), cut(reference + holdout, max_train)};
}

SeedSplits make_splits(const SplitSizes& sizes, std::uint64_t seed, const ClassSelection& by_class) {
  if (static_cast<std::int64_t>(by_class.labels.size()) != sizes.pool) {
    throw ConfigError("data.member_selection = \"class\" needs a label for every record; the dataset has " +
                      std::to_string(by_class.labels.size()) + " labels for " + std::to_string(sizes.pool) + " records");
  }
  const auto perm = checked_permutation(sizes, seed);
  const auto member = [&](std::int64_t row) {
    return std::ranges::find(by_class.classes, by_class.labels[static_cast<std::size_t>(row)]) != by_class.classes.end();
  };
  SeedSplits s;
  s.reference.assign(perm.begin(), perm.begin() + sizes.reference);
  for (auto it = perm.begin() + sizes.reference; it != perm.end(); ++it) {
    auto& side = member(*it) ? s.train_pool : s.holdout;
    const auto wanted = member(*it) ? sizes.max_train : sizes.holdout;
    if (static_cast<std::int64_t>(side.size()) < wanted) side.push_back(*it);
  }
  if (static_cast<std::int64_t>(s.train_pool.size()) < sizes.max_train ||
      static_cast<std::int64_t>(s.holdout.size()) < sizes.holdout) {
    throw ConfigError("data.member_selection = \"class\": after the reference set, the pool has " +
                      std::to_string(s.train_pool.size()) + " records of data.member_classes for a largest training set of " +
                      std::to_string(sizes.max_train) + " (max of sweep.train_sizes) and " +
                      std::to_string(s.holdout.size()) + " records of other classes for a hold-out of " +
                      std::to_string(sizes.holdout) + " (attack.max_queries); choose other classes or smaller sizes");
  }
  return s;
}

ExtractionSplits make_extraction_splits(std::span<const std::int64_t> labels, const ExtractionSizes& sizes,
                                        std::uint64_t seed) {
  std::vector<std::int64_t> perm(labels.size());
  std::iota(perm.begin(), perm.end(), std::int64_t{0});
  Rng(derive_seed(seed, "extraction-splits")).shuffle(std::span(perm));
  const auto in = [&](const std::vector<std::int64_t>& classes, std::int64_t row) {
    return classes.empty() || std::ranges::find(classes, labels[static_cast<std::size_t>(row)]) != classes.end();
  };
  ExtractionSplits s;
  for (const auto row : perm) {
    if (static_cast<std::int64_t>(s.target.size()) < sizes.target_size && in(sizes.target_classes, row)) {
      s.target.push_back(row);
    } else if (static_cast<std::int64_t>(s.transfer.size()) < sizes.transfer_size && in(sizes.transfer_classes, row)) {
      s.transfer.push_back(row);
    }
  }
  const auto short_of = [](const std::vector<std::int64_t>& rows, std::int64_t wanted, const std::string& size_key,
                           const std::string& classes_key) {
    if (static_cast<std::int64_t>(rows.size()) < wanted) {
      throw ConfigError("the dataset pool has " + std::to_string(rows.size()) + " records of " + classes_key +
                        " for " + size_key + " = " + std::to_string(wanted) + "; shrink it or use a larger data.pool");
    }
  };
  short_of(s.target, sizes.target_size, "extraction.target_train_size", "extraction.target_classes");
  short_of(s.transfer, sizes.transfer_size, "extraction.transfer_train_size", "extraction.transfer_classes");
  return s;
}

std::vector<std::int64_t> training_set(const SeedSplits& s, std::int64_t n) {
  if (n < 0 || n > static_cast<std::int64_t>(s.train_pool.size())) {
    throw std::invalid_argument("training_set: n = " + std::to_string(n) + " outside [0, " +
                                std::to_string(s.train_pool.size()) + "]");
  }
  return {s.train_pool.begin(), s.train_pool.begin() + n};
}

QuerySet make_query_set(const SeedSplits& s, std::int64_t n, std::int64_t m, std::uint64_t seed) {
  std::vector<std::int64_t> train = training_set(s, n);
  if (m < 0 || m > n || m > static_cast<std::int64_t>(s.holdout.size())) {
    throw std::invalid_argument("make_query_set: m = " + std::to_string(m) + " outside [0, min(n = " +
                                std::to_string(n) + ", hold-out " + std::to_string(s.holdout.size()) + ")]");
  }
  // Partial Fisher-Yates from the front: draw i is uniform over the records not drawn yet.
  Rng rng(derive_seed(seed, "query-members", static_cast<std::uint64_t>(n)));
  const auto count = static_cast<std::size_t>(m);
  for (std::size_t i = 0; i < count; ++i) {
    std::swap(train[i], train[i + rng.uniform(train.size() - i)]);
  }
  QuerySet q;
  q.sample_index.assign(train.begin(), train.begin() + m);
  q.sample_index.insert(q.sample_index.end(), s.holdout.begin(), s.holdout.begin() + m);
  q.is_member.assign(count, 1);
  q.is_member.resize(2 * count, 0);
  return q;
}

}  // namespace ganleaks::data
