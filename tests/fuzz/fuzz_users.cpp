// Fuzz target: any bytes as a user directory file. The first byte picks the format (even: CSV, odd: JSON), the rest
// is the file. Whatever loads must find each of its entries again by its uid and by its name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "enrich/feeds/user_table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  saker::UserTableLimits limits;
  limits.max_entries = 2000;
  auto t = saker::UserTable::parse(text, data[0] % 2 ? saker::UserTable::Format::Json : saker::UserTable::Format::Csv,
                                   "fuzz", limits);
  if (!t) {
    if (t.error().message.empty()) __builtin_trap();  // a refusal says why
    return 0;
  }
  const saker::UserTable& table = *t.value();
  if (table.size() > limits.max_entries) __builtin_trap();  // the limit holds
  for (const auto& e : table.entries()) {
    if (e.uid.empty() && e.name.empty()) __builtin_trap();  // every entry has a key
    if (!e.uid.empty() && table.by_uid(e.uid) != &e) __builtin_trap();
    if (!e.name.empty() && table.by_name(e.name) != &e) __builtin_trap();
  }
  return 0;
}
