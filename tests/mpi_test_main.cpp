// GoogleTest on MPI ranks: every rank runs every test; the verdict is agreed through an all-reduce so
// that all ranks exit alike (nccl-tests style). Only rank 0 prints the test log.
#include <gtest/gtest.h>
#include <mpi.h>

#include "dist/comm.h"

int main(int argc, char** argv) {
  // The production set-up (MPI_ERRORS_RETURN on the world communicator), not a bare MPI_Init.
  ganleaks::dist::Environment mpi(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  ::testing::InitGoogleTest(&argc, argv);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (failed && rank != 0) std::fprintf(stderr, "rank %d: tests failed\n", rank);
  return any_failed;
}
