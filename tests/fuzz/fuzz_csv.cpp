// The CSV loader of tabular records: any bytes are records or one DataError naming the file, line and field.
#include "core/errors.h"
#include "data/tabular.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = ganleaks::fuzz::input_file(data, size, ".csv");
  for (const char* label : {"", "label"}) {
    try {
      ganleaks::data::load_tabular_csv(file, label, /*label_required=*/false);
    } catch (const ganleaks::DataError&) {
    }
  }
  return 0;
}
