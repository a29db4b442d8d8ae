# Sourced by launch/sanitize and tests/fuzz/run: how the sanitizers report, and what they leave to others.
# Full stacks at every allocation (the system's HDF5 and Open MPI have no frame pointers), so that the suppressions
# can name the library function at fault; Open MPI keeps its plugins loaded, so that their frames have names. A
# failed allocation returns null, as it does in production (HDF5 reports it as an error on a damaged size).
sanitize_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:fast_unwind_on_malloc=0:allocator_may_return_null=1:suppressions=$sanitize_dir/asan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$sanitize_dir/lsan.supp:print_suppressions=0}"
export OMPI_MCA_mca_base_component_disable_dlclose=1
