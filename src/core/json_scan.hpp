#pragma once
// json_scan: a JSON object's top-level members read without a parse, from either end.
//
// Falco writes `priority` third, after `hostname` and `output`, and `output_fields`, the bulk of an alert, last:
// reading forward finds the priority a router needs first within a few hundred bytes, and reading backward finds
// where added members go without reading output_fields. Both directions are sound because in JSON a '"' with an even
// number of backslashes before it always delimits a string (an escaped quote has an odd number), so strings can be
// skipped from either end.
//
// Neither function validates: on text that is not JSON they may answer wrongly, never read out of bounds. Callers
// use them only where a wrong answer costs nothing but a skipped check (a priority below every route's floor: the
// alert is dropped unparsed, but never one whose priority could be read two ways) or on text decode() has
// validated already (splice points).
#include <cstddef>
#include <optional>
#include <string_view>

namespace saker {

// The value of the first top-level "priority" key when it is a string without escapes, found before any key that
// has escapes (which might spell "priority"); nullopt otherwise. `obj`: one object, surrounding whitespace trimmed.
std::optional<std::string_view> first_priority(std::string_view obj) noexcept;

// Whether no parser could read another priority from `obj` than `first`, what first_priority(obj) returned: no
// "priority" key follows it, written plainly or with escapes (a nested one counts: no scan tells nesting apart
// cheaply). Called only for an alert the priority would drop, so most alerts are never scanned to their end.
bool no_priority_after(std::string_view obj, std::string_view first) noexcept;

// Whether `text` holds neither the ten bytes "priority" (quotes included) nor a \u escape. names_no_priority() uses
// the widest vectors the processor has (chosen once, at start); the portable one is its reference in tests.
bool names_no_priority(std::string_view text) noexcept;
bool names_no_priority_portable(std::string_view text) noexcept;

// Where the json format inserts added members: the closing bracket of the top-level member `fields_from_end`
// (0: the last member) and of `tags_from_end`, and whether that object or array is empty. A negative index is not
// looked for. `obj` must be valid JSON, one object, trimmed.
struct SplicePoints {
  static constexpr std::size_t npos = std::string_view::npos;
  std::size_t fields_close = npos, tags_close = npos;
  bool fields_empty = true, tags_empty = true;
};
SplicePoints scan_splice_points(std::string_view obj, int fields_from_end, int tags_from_end) noexcept;
// The same by name, for an alert whose decode did not note the positions (no stage ran): the last top-level
// "output_fields" that holds an object and the last "tags" that holds an array. Keys are compared as written, so a
// caller must not use it on text that may spell one with escapes ("\u0074ags"). `obj`: valid JSON, one object
// (surrounding whitespace allowed: positions count from its first byte).
SplicePoints scan_splice_points(std::string_view obj) noexcept;

}  // namespace saker
