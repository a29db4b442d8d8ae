#pragma once
// The one communicator the rest of ganleaks talks to: ranks, collectives over plain buffers, and tagged
// point-to-point byte messages for the coordinator. MPI appears only in src/dist; an MPI error becomes a
// CommError naming the operation and the rank, never a silent abort.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ganleaks::dist {

class CommError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ReduceOp { kSum, kMin, kMax };

struct Message {
  int source = -1;
  int tag = -1;
  std::vector<std::byte> payload;
};

// Owns MPI for the life of the process (MPI_Init / MPI_Finalize). Create exactly one, first thing in main.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  // Ends every rank of the job at once; used when an error escapes on one rank so that none hangs.
  [[noreturn]] static void abort(int exit_code);
  static bool initialized();
};

class Comm {
 public:
  static Comm world();
  ~Comm();
  Comm(Comm&&) noexcept;
  Comm& operator=(Comm&&) noexcept;

  int rank() const;
  int size() const;
  bool is_root() const { return rank() == 0; }
  // Rank among the processes of this node (MPI_COMM_TYPE_SHARED): picks the GPU, names the log.
  int local_rank() const;

  void barrier() const;
  void broadcast(std::vector<std::byte>& data, int root) const;  // resized on non-roots
  void all_reduce(std::span<double> data, ReduceOp op) const;
  void all_reduce(std::span<float> data, ReduceOp op) const;
  void all_reduce(std::span<std::int64_t> data, ReduceOp op) const;
  // Variable-sized blobs: every rank contributes one; gather returns them (index = rank) on root only.
  std::vector<std::vector<std::byte>> gather(std::span<const std::byte> local, int root) const;
  std::vector<std::vector<std::byte>> all_gather(std::span<const std::byte> local) const;

  void send(std::span<const std::byte> payload, int dest, int tag) const;
  Message receive(int source, int tag) const;  // source < 0: any source
  std::optional<Message> try_receive(int tag) const;  // any source, non-blocking

  // A private copy of this communicator, so that coordinator messages never match collective traffic.
  Comm duplicate() const;
  // Collective: ranks with the same color form a communicator, ordered by key; color < 0: no communicator
  // for this rank (nullopt).
  std::optional<Comm> split(int color, int key) const;

  struct Impl;  // backend state, opaque outside src/dist
  explicit Comm(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

std::string host_name();
// The MPI library's own version string, first line (for the provenance record).
std::string mpi_library_version();

}  // namespace ganleaks::dist
