#pragma once
// decode: JSON bytes -> Alert. One parser for every source: Falco's JSON output (`output_fields` object,
// RFC 3339 `time`), the flattened shape (fields at top level, integer-nanosecond `time`) and falcosidekick's payload.
#include <cstddef>
#include <memory>
#include <string_view>

#include "core/alert.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace simdjson::dom {
class element;
}

namespace saker {

struct DecodeLimits {
  std::size_t max_alert_bytes = 1024 * 1024;  // one alert's JSON text
  std::size_t max_depth = 16;                 // nesting of objects/arrays, the alert object itself included
  std::size_t max_fields = 1024;              // fields + array elements in one alert
};

// Error codes (metric labels): too_large, invalid_json, invalid_utf8, too_deep, too_many_fields, not_object,
// missing_rule, missing_priority, unknown_priority, bad_field_type, bad_time, reserved_key, bad_envelope.
class Decoder {
 public:
  explicit Decoder(DecodeLimits limits = {});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Received: from a sender (the reserved key kPersistKey is refused). Persisted: saker's own persisted form
  // (Alert::persisted(): disk buffer, dead letters, replay), whose kPersistKey restores added fields and arrival.
  enum class Mode : std::uint8_t { Received, Persisted };

  // Not thread-safe: one Decoder per thread. The returned Alert owns copies of everything it refers to, and is not
  // shared yet: stages may add fields to it before it is.
  // `one_line`: the caller split `json` at '\n' already (NDJSON), so only '\r' needs looking for.
  Result<std::shared_ptr<Alert>> decode(std::string_view json, bool one_line = false);
  Result<std::shared_ptr<Alert>> decode(std::string_view json, Mode mode);

  // The clock that stamps arrival (the wall clock unless set; replay drives one from event time).
  void set_clock(const Clock* clock) noexcept { clock_ = clock; }
  // Stages will add fields: each alert gets room for them, and the places in its JSON where the json format puts
  // them. (Whether Falco's alert has a name a stage adds is known from the picks: pipeline/config.cpp registers
  // every such name.)
  void set_stages(bool on) noexcept { stages_ = on; }

  const DecodeLimits& limits() const noexcept { return limits_; }

  // Alerts below `floor` are returned as a null AlertPtr instead of being built: no route would take them. When the
  // priority can be read from the first members without a parse (core/json_scan.hpp: Falco writes it third), such
  // an alert is dropped unparsed and so unchecked; otherwise it is decoded and checked in full first.
  void set_floor(Priority floor) noexcept { floor_ = floor; }

 private:
  struct Impl;
  DecodeLimits limits_;
  Priority floor_ = Priority::Debug;
  const Clock* clock_ = nullptr;
  bool stages_ = false;
  Result<std::shared_ptr<Alert>> decode_as(std::string_view json, bool one_line, Mode mode);
  // The persisted form's added fields (with their stages) and tags, back onto the alert.
  static void restore_additions(Alert& a, const simdjson::dom::element& envelope);
  std::unique_ptr<Impl> impl_;
};

}  // namespace saker
