// MPI backend of dist::Comm. Errors are returned (MPI_ERRORS_RETURN) and turned into CommError.
#include "dist/comm.h"

#include <mpi.h>

#include <fmt/format.h>

#include <cstdlib>
#include <limits>

namespace ganleaks::dist {
namespace {

void check(int rc, const char* operation, MPI_Comm comm) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  int rank = -1;
  MPI_Comm_rank(comm, &rank);
  throw CommError(fmt::format("{} failed on rank {}: {}", operation, rank, std::string(text, length)));
}

MPI_Op to_mpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return MPI_SUM;
    case ReduceOp::kMin: return MPI_MIN;
    case ReduceOp::kMax: return MPI_MAX;
  }
  throw CommError("unknown reduce op");
}

int checked_count(std::size_t n, const char* operation) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw CommError(fmt::format("{}: {} elements exceed MPI's int count", operation, n));
  }
  return static_cast<int>(n);
}

}  // namespace

struct Comm::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  bool owned = false;
  int rank = 0;
  int size = 1;
  int local_rank = 0;

  ~Impl() {
    if (owned && comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

namespace {
std::unique_ptr<Comm::Impl> make_impl(MPI_Comm comm, bool owned) {
  auto impl = std::make_unique<Comm::Impl>();
  impl->comm = comm;
  impl->owned = owned;
  check(MPI_Comm_rank(comm, &impl->rank), "MPI_Comm_rank", comm);
  check(MPI_Comm_size(comm, &impl->size), "MPI_Comm_size", comm);
  // Under mpirun inside Slurm every rank sees SLURM_LOCALID=0, so ask MPI which ranks share the node.
  MPI_Comm node;
  check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, impl->rank, MPI_INFO_NULL, &node),
        "MPI_Comm_split_type", comm);
  MPI_Comm_rank(node, &impl->local_rank);
  MPI_Comm_free(&node);
  return impl;
}
}  // namespace

Environment::Environment(int& argc, char**& argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

Environment::~Environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void Environment::abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

bool Environment::initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

Comm::Comm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Comm::~Comm() = default;
Comm::Comm(Comm&&) noexcept = default;
Comm& Comm::operator=(Comm&&) noexcept = default;

Comm Comm::world() { return Comm(make_impl(MPI_COMM_WORLD, false)); }

Comm Comm::duplicate() const {
  MPI_Comm copy;
  check(MPI_Comm_dup(impl_->comm, &copy), "MPI_Comm_dup", impl_->comm);
  MPI_Comm_set_errhandler(copy, MPI_ERRORS_RETURN);
  return Comm(make_impl(copy, true));
}

std::optional<Comm> Comm::split(int color, int key) const {
  MPI_Comm part;
  check(MPI_Comm_split(impl_->comm, color < 0 ? MPI_UNDEFINED : color, key, &part), "MPI_Comm_split", impl_->comm);
  if (part == MPI_COMM_NULL) return std::nullopt;
  MPI_Comm_set_errhandler(part, MPI_ERRORS_RETURN);
  return Comm(make_impl(part, true));
}

int Comm::rank() const { return impl_->rank; }
int Comm::size() const { return impl_->size; }
int Comm::local_rank() const { return impl_->local_rank; }

void Comm::barrier() const { check(MPI_Barrier(impl_->comm), "MPI_Barrier", impl_->comm); }

void Comm::broadcast(std::vector<std::byte>& data, int root) const {
  std::uint64_t n = data.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, impl_->comm), "MPI_Bcast(size)", impl_->comm);
  data.resize(n);
  check(MPI_Bcast(data.data(), checked_count(n, "MPI_Bcast"), MPI_BYTE, root, impl_->comm), "MPI_Bcast",
        impl_->comm);
}

void Comm::all_reduce(std::span<double> data, ReduceOp op) const {
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), checked_count(data.size(), "MPI_Allreduce"), MPI_DOUBLE,
                      to_mpi(op), impl_->comm),
        "MPI_Allreduce(double)", impl_->comm);
}
void Comm::all_reduce(std::span<float> data, ReduceOp op) const {
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), checked_count(data.size(), "MPI_Allreduce"), MPI_FLOAT,
                      to_mpi(op), impl_->comm),
        "MPI_Allreduce(float)", impl_->comm);
}
void Comm::all_reduce(std::span<std::int64_t> data, ReduceOp op) const {
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), checked_count(data.size(), "MPI_Allreduce"), MPI_INT64_T,
                      to_mpi(op), impl_->comm),
        "MPI_Allreduce(int64)", impl_->comm);
}

namespace {
// Shared by gather and all_gather: sizes first, then one Gatherv/Allgatherv of the concatenation.
std::vector<std::vector<std::byte>> split_by_counts(const std::vector<std::byte>& all, const std::vector<int>& counts,
                                                    const std::vector<int>& offsets) {
  std::vector<std::vector<std::byte>> parts(counts.size());
  for (std::size_t r = 0; r < counts.size(); ++r) {
    parts[r].assign(all.begin() + offsets[r], all.begin() + offsets[r] + counts[r]);
  }
  return parts;
}
std::vector<int> exclusive_scan(const std::vector<int>& counts, const char* operation) {
  std::vector<int> offsets(counts.size());
  std::int64_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = static_cast<int>(total);
    total += counts[r];
  }
  checked_count(static_cast<std::size_t>(total), operation);
  return offsets;
}
}  // namespace

std::vector<std::vector<std::byte>> Comm::gather(std::span<const std::byte> local, int root) const {
  const int count = checked_count(local.size(), "MPI_Gatherv");
  std::vector<int> counts(impl_->rank == root ? impl_->size : 0);
  check(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, impl_->comm), "MPI_Gather(sizes)",
        impl_->comm);
  if (impl_->rank != root) {
    check(MPI_Gatherv(local.data(), count, MPI_BYTE, nullptr, nullptr, nullptr, MPI_BYTE, root, impl_->comm),
          "MPI_Gatherv", impl_->comm);
    return {};
  }
  const auto offsets = exclusive_scan(counts, "MPI_Gatherv");
  std::vector<std::byte> all(static_cast<std::size_t>(offsets.back()) + counts.back());
  check(MPI_Gatherv(local.data(), count, MPI_BYTE, all.data(), counts.data(), offsets.data(), MPI_BYTE, root,
                    impl_->comm),
        "MPI_Gatherv", impl_->comm);
  return split_by_counts(all, counts, offsets);
}

std::vector<std::vector<std::byte>> Comm::all_gather(std::span<const std::byte> local) const {
  const int count = checked_count(local.size(), "MPI_Allgatherv");
  std::vector<int> counts(impl_->size);
  check(MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, impl_->comm), "MPI_Allgather(sizes)",
        impl_->comm);
  const auto offsets = exclusive_scan(counts, "MPI_Allgatherv");
  std::vector<std::byte> all(static_cast<std::size_t>(offsets.back()) + counts.back());
  check(MPI_Allgatherv(local.data(), count, MPI_BYTE, all.data(), counts.data(), offsets.data(), MPI_BYTE,
                       impl_->comm),
        "MPI_Allgatherv", impl_->comm);
  return split_by_counts(all, counts, offsets);
}

void Comm::send(std::span<const std::byte> payload, int dest, int tag) const {
  check(MPI_Send(payload.data(), checked_count(payload.size(), "MPI_Send"), MPI_BYTE, dest, tag, impl_->comm),
        "MPI_Send", impl_->comm);
}

namespace {
Message receive_probed(MPI_Comm comm, const MPI_Status& status) {
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  Message message{status.MPI_SOURCE, status.MPI_TAG, std::vector<std::byte>(count)};
  check(MPI_Recv(message.payload.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm,
                 MPI_STATUS_IGNORE),
        "MPI_Recv", comm);
  return message;
}
}  // namespace

Message Comm::receive(int source, int tag) const {
  MPI_Status status;
  check(MPI_Probe(source < 0 ? MPI_ANY_SOURCE : source, tag, impl_->comm, &status), "MPI_Probe", impl_->comm);
  return receive_probed(impl_->comm, status);
}

std::optional<Message> Comm::try_receive(int tag) const {
  int flag = 0;
  MPI_Status status;
  check(MPI_Iprobe(MPI_ANY_SOURCE, tag, impl_->comm, &flag, &status), "MPI_Iprobe", impl_->comm);
  if (!flag) return std::nullopt;
  return receive_probed(impl_->comm, status);
}

std::string host_name() {
  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  MPI_Get_processor_name(name, &length);
  return std::string(name, length);
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, length);
  return version.substr(0, version.find_first_of(",\n"));
}

}  // namespace ganleaks::dist
