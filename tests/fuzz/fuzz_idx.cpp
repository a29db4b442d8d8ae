// The gzip IDX reader (Fashion-MNIST's files): any bytes are an array or one DataError naming the file.
#include "core/errors.h"
#include "data/idx.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = ganleaks::fuzz::input_file(data, size, ".idx.gz");
  try {
    ganleaks::data::read_idx_gz(file);
  } catch (const ganleaks::DataError&) {
  }
  return 0;
}
