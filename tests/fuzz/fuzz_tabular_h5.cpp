// The HDF5 loader of tabular records: any bytes are records or one DataError naming the file and dataset.
#include "core/errors.h"
#include "data/tabular.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = ganleaks::fuzz::input_file(data, size, ".h5");
  try {
    ganleaks::data::load_tabular_h5(file);
  } catch (const ganleaks::DataError&) {
  }
  return 0;
}
