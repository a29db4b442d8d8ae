// What a run reads back from results files and job records: the integrity check (io/record.h) gives a verdict for
// any bytes, never an exception; the report readers of both tasks read a file or throw an exception (`ganleaks
// report` only reads a results.h5 that passed the check) — never crash, hang or read out of bounds.
#include <exception>

#include "extraction/report.h"
#include "fuzz_input.h"
#include "io/record.h"
#include "membership/report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ganleaks;
  const auto file = fuzz::input_file(data, size, ".h5");
  io::check_record(file);
  try {
    const auto rows = membership::read_attack_rows(file);
    membership::auc_table(rows, membership::TableStyle::kMarkdown);
    membership::attack_rows_csv(rows);
  } catch (const std::exception&) {
  }
  try {
    const auto rows = extraction::read_extraction_rows(file);
    extraction::extraction_markdown(rows, "");
    extraction::extraction_csv(rows);
  } catch (const std::exception&) {
  }
  return 0;
}
