# Sourced by the launch scripts: paths and the environment every ganleaks process runs in.
GANLEAKS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GANLEAKS_BUILD="${GANLEAKS_BUILD:-$GANLEAKS_ROOT/build/release}"
GANLEAKS_BIN="$GANLEAKS_BUILD/src/ganleaks"

# Open MPI as root needs these two; users should never have to set them.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Shared memory between ranks of one node starts fastest and prints no transport warnings.
export OMPI_MCA_pml="${OMPI_MCA_pml:-ob1}" OMPI_MCA_btl="${OMPI_MCA_btl:-self,vader}"
# One BLAS/OpenMP thread per rank unless asked otherwise: ranks sharing cores must not oversubscribe them.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
# ccache also caches files compiled with the precompiled LibTorch header.
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
# Results on NFS/Lustre: HDF5's file locking fails there and is not needed (rank 0 is the only writer).
export HDF5_USE_FILE_LOCKING="${HDF5_USE_FILE_LOCKING:-FALSE}"
