#pragma once
// Disjoint record sets drawn from a dataset pool (SPEC): the victim's training set of size n, a
// non-member hold-out, the attacker's reference set, and the query set of m members (from the
// training set) plus m non-members (from the hold-out). All randomness comes from
// core/seeding.h, so a seed gives the same indices on every platform.
#include <cstdint>
#include <span>
#include <vector>

namespace ganleaks::data {

struct SplitSizes {
  std::int64_t pool = 0;       // records in the dataset pool
  std::int64_t reference = 0;  // data.reference_size
  std::int64_t holdout = 0;    // attack.max_queries: non-members available for queries
  std::int64_t max_train = 0;  // largest of sweep.train_sizes
};

// One seed's partition: a seeded permutation of [0, pool) cut into
// reference | holdout | train_pool (max_train records); the rest of the pool is unused.
// Training sets for the swept sizes are nested prefixes of train_pool, so as n grows one seed's
// victims share data and differ only in the added records.
struct SeedSplits {
  std::vector<std::int64_t> reference, holdout, train_pool;
};

// Permutation seeded by derive_seed(seed, "splits"). ConfigError if a size is negative or
// reference + holdout + max_train > pool (the message names the config keys).
SeedSplits make_splits(const SplitSizes& sizes, std::uint64_t seed);

// data.member_selection = "class", the analogue of GAN-Leaks' identity-based selection: training records
// (members) only from records whose label is in `classes`, hold-out records (non-member queries) only from
// the other classes; the reference set is cut from the whole pool first, as above. Same permutation as
// make_splits; ConfigError (naming data.member_classes) when either side has too few records.
struct ClassSelection {
  std::span<const std::int64_t> labels;  // one per pool record
  std::vector<std::int64_t> classes;     // data.member_classes
};
SeedSplits make_splits(const SplitSizes& sizes, std::uint64_t seed, const ClassSelection& by_class);

// Model extraction (docs/extraction.md): the target's training set (target_size records of target_classes, all
// classes when empty) and, for the transfer study, transfer_size records of transfer_classes (none when
// transfer_size = 0), from one seeded permutation of the pool (derive_seed(seed, "extraction-splits")), so that
// a seed gives the same records everywhere. The thief's partial real data are the first records of `target`.
// ConfigError naming the extraction keys when the pool has too few records of the classes asked for.
struct ExtractionSplits {
  std::vector<std::int64_t> target, transfer;
};
struct ExtractionSizes {
  std::int64_t target_size = 0;
  std::vector<std::int64_t> target_classes;  // empty: every class
  std::int64_t transfer_size = 0;
  std::vector<std::int64_t> transfer_classes;
};
ExtractionSplits make_extraction_splits(std::span<const std::int64_t> labels, const ExtractionSizes& sizes,
                                        std::uint64_t seed);

// The first n records of train_pool. std::invalid_argument unless 0 <= n <= train_pool.size().
std::vector<std::int64_t> training_set(const SeedSplits& s, std::int64_t n);

struct QuerySet {
  std::vector<std::int64_t> sample_index;  // indices into the dataset pool
  std::vector<std::uint8_t> is_member;     // 1 for a member of the training set, 0 otherwise
};

// m members drawn without replacement from training_set(s, n), in the order drawn (stream
// derive_seed(seed, "query-members", n)), followed by the first m records of the hold-out as
// non-members. std::invalid_argument unless 0 <= m <= n and m <= holdout.size().
QuerySet make_query_set(const SeedSplits& s, std::int64_t n, std::int64_t m, std::uint64_t seed);

}  // namespace ganleaks::data
