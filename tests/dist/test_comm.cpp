// dist::Comm on real Open MPI ranks (run under mpiexec -n 1 and -n 2).
#include "dist/collectives.h"
#include "dist/comm.h"

#include <gtest/gtest.h>

#include <numeric>
#include <string>

namespace ganleaks::dist {
namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}
std::string text_of(const std::vector<std::byte>& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

TEST(Comm, RankAndSize) {
  const auto world = Comm::world();
  EXPECT_GE(world.rank(), 0);
  EXPECT_LT(world.rank(), world.size());
  EXPECT_GE(world.local_rank(), 0);
  EXPECT_LE(world.local_rank(), world.rank());  // one node here: local ranks follow world ranks
}

TEST(Comm, AllReduceSumMinMax) {
  const auto world = Comm::world();
  const int r = world.rank(), n = world.size();
  std::vector<double> sum{1.0 * r, 0.5};
  world.all_reduce(std::span(sum), ReduceOp::kSum);
  EXPECT_DOUBLE_EQ(sum[0], n * (n - 1) / 2.0);
  EXPECT_DOUBLE_EQ(sum[1], 0.5 * n);
  std::vector<float> low{static_cast<float>(10 - r)};
  world.all_reduce(std::span(low), ReduceOp::kMin);
  EXPECT_EQ(low[0], static_cast<float>(10 - (n - 1)));
  std::vector<std::int64_t> high{r, -r};
  world.all_reduce(std::span(high), ReduceOp::kMax);
  EXPECT_EQ(high[0], n - 1);
  EXPECT_EQ(high[1], 0);
}

TEST(Comm, SplitFormsGroupsAndLeavesOutNegativeColors) {
  const auto world = Comm::world();
  const auto pairs = world.split(world.rank() / 2, world.rank());  // {0,1}, {2,3}, ...
  ASSERT_TRUE(pairs.has_value());
  EXPECT_EQ(pairs->rank(), world.rank() % 2);
  EXPECT_EQ(pairs->size(), std::min(2, world.size() - world.rank() / 2 * 2));
  std::vector<std::int64_t> ranks{world.rank()};
  pairs->all_reduce(std::span(ranks), ReduceOp::kSum);
  const int first = world.rank() / 2 * 2;
  EXPECT_EQ(ranks[0], pairs->size() == 2 ? 2 * first + 1 : first);
  const auto roots = world.split(world.rank() == 0 ? 0 : -1, 0);
  EXPECT_EQ(roots.has_value(), world.rank() == 0);
}

TEST(Comm, GatherVariableSizedBlobsOnRoot) {
  const auto world = Comm::world();
  const std::string mine(world.rank() + 1, static_cast<char>('a' + world.rank()));  // rank r sends r+1 bytes
  const auto parts = world.gather(bytes_of(mine), 0);
  if (world.is_root()) {
    ASSERT_EQ(static_cast<int>(parts.size()), world.size());
    for (int r = 0; r < world.size(); ++r) EXPECT_EQ(text_of(parts[r]), std::string(r + 1, static_cast<char>('a' + r)));
  } else {
    EXPECT_TRUE(parts.empty());
  }
}

TEST(Comm, AllGatherIncludingEmptyContributions) {
  const auto world = Comm::world();
  const std::string mine = world.rank() % 2 ? "" : "rank" + std::to_string(world.rank());
  const auto parts = world.all_gather(bytes_of(mine));
  ASSERT_EQ(static_cast<int>(parts.size()), world.size());
  for (int r = 0; r < world.size(); ++r) EXPECT_EQ(text_of(parts[r]), r % 2 ? "" : "rank" + std::to_string(r));
}

TEST(Comm, BroadcastResizesNonRoots) {
  const auto world = Comm::world();
  auto data = world.is_root() ? bytes_of("from root") : std::vector<std::byte>{};
  world.broadcast(data, 0);
  EXPECT_EQ(text_of(data), "from root");
}

TEST(Comm, PointToPointOnADuplicate) {
  const auto world = Comm::world();
  const auto channel = world.duplicate();
  if (world.size() < 2) {
    EXPECT_FALSE(channel.try_receive(7).has_value());
    return;
  }
  if (world.rank() == 1) channel.send(bytes_of("ping"), 0, 7);
  if (world.is_root()) {
    const auto m = channel.receive(-1, 7);
    EXPECT_EQ(m.source, 1);
    EXPECT_EQ(m.tag, 7);
    EXPECT_EQ(text_of(m.payload), "ping");
  }
  world.barrier();
  // Nothing crossed over to the original communicator.
  EXPECT_FALSE(world.try_receive(7).has_value());
}

TEST(Comm, MpiErrorsBecomeExceptionsNamingOperationAndRank) {
  const auto world = Comm::world();
  try {
    world.send(bytes_of("x"), world.size() + 5, 1);  // no such rank
    FAIL() << "expected CommError";
  } catch (const CommError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("MPI_Send"), std::string::npos) << what;
    EXPECT_NE(what.find("rank " + std::to_string(world.rank())), std::string::npos) << what;
  }
}

// The typed collectives: arrays as their bytes, anything serialisable as its archive, in rank order.
struct Piece {
  int rank = 0;
  std::string text;
  std::vector<double> values;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & rank & text & values;
  }
};

TEST(Collectives, TypedBroadcastGatherAndAllGather) {
  const auto world = Comm::world();
  const int rank = world.rank(), size = world.size();
  std::string text = world.is_root() ? "from root" : "";
  broadcast(world, text, 0);
  EXPECT_EQ(text, "from root");
  std::vector<std::int64_t> numbers = world.is_root() ? std::vector<std::int64_t>{1, -2, 3} : std::vector<std::int64_t>{};
  broadcast(world, numbers, 0);
  EXPECT_EQ(numbers, (std::vector<std::int64_t>{1, -2, 3}));
  const auto value = broadcast_value(world, Piece{.rank = rank, .text = "x" + std::to_string(rank)}, size - 1);
  EXPECT_EQ(value.rank, size - 1);

  const std::vector<double> mine(static_cast<std::size_t>(rank + 1), 0.5 * rank);  // ragged: rank r has r + 1
  const auto all = all_gather<double>(world, mine);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) EXPECT_EQ(all[r], std::vector<double>(static_cast<std::size_t>(r + 1), 0.5 * r));
  const auto at_root = gather<double>(world, mine, 0);
  EXPECT_EQ(at_root.size(), world.is_root() ? static_cast<std::size_t>(size) : 0u);

  const Piece piece{.rank = rank, .text = std::string(static_cast<std::size_t>(rank), 'z'), .values = mine};
  const auto pieces = all_gather_values(world, piece);
  ASSERT_EQ(pieces.size(), static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    EXPECT_EQ(pieces[r].rank, r);
    EXPECT_EQ(pieces[r].text, std::string(static_cast<std::size_t>(r), 'z'));
    EXPECT_EQ(pieces[r].values.size(), static_cast<std::size_t>(r + 1));
  }
  const auto gathered = gather_values(world, piece, 0);
  if (world.is_root()) {
    ASSERT_EQ(gathered.size(), static_cast<std::size_t>(size));
    EXPECT_EQ(gathered.back().rank, size - 1);
  } else {
    EXPECT_TRUE(gathered.empty());
  }
}

}  // namespace
}  // namespace ganleaks::dist
