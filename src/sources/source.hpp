#pragma once
// A source turns bytes from the outside (HTTP, TCP, a file, stdin) into Alerts and hands them to the pipeline.
#include <cstdint>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.hpp"
#include "core/alert.hpp"
#include "core/decode.hpp"
#include "core/result.hpp"
#include "core/stage.hpp"
#include "observe/metrics.hpp"

namespace saker {

// Implemented by the pipeline: routes alerts to every sink whose route matches.
class Ingest {
 public:
  virtual ~Ingest() = default;
  // Takes the whole batch or none of it: false when a matched sink's queue is full (push back and retry).
  // On true the batch is moved from and left empty.
  virtual bool submit(std::vector<AlertPtr>& batch) = 0;
  // JSON health document for /healthz; `healthy` false when some sink is failing. /healthz answers 200 with it
  // either way (falcosidekick's contract: {"status":"ok"} while the daemon runs).
  virtual std::string health(bool& healthy) const = 0;
  // JSON readiness document for /readyz: `ready` false while starting or when a consumer refuses work (a full
  // queue); a failing sink alone is reported in the body, not as unready.
  virtual std::string readiness(bool& ready) const {
    ready = true;
    return "{\"ready\":true}";
  }
  // POST /-/reload: asks the daemon to reload its config; false when it cannot.
  virtual bool request_reload() { return false; }
  // The lowest priority any route takes: an alert below it is still decoded in full (so a bad one is refused as
  // always) and counted as received and unrouted, but never built into an Alert nor submitted.
  virtual Priority floor() const { return Priority::Debug; }
  // The stages every decoded alert goes through before submit() (null: none). Read once per batch, so a reload
  // that replaces them takes effect at the next batch.
  virtual std::shared_ptr<const StageChain> stages() const { return nullptr; }
  // The clock that stamps arrival (the wall clock unless replay drives one).
  virtual const Clock* clock() const { return nullptr; }
};

class Listeners;

struct SourceContext {
  std::string name;  // config `name`, default the type
  Ingest& ingest;
  Metrics& metrics;
  DecodeLimits limits;
  std::string data_dir;  // where checkpoints live
  // Where listening sockets come from (the pipeline's, which outlives a reload); null: the source keeps its own.
  // The context's address identifies the source as a holder of its socket.
  Listeners* listeners = nullptr;
};

class Source {
 public:
  virtual ~Source() = default;
  // Binds/opens and starts its own threads; an error (port in use, unreadable file) is returned, not thrown.
  virtual Result<bool> start() = 0;
  // Stops accepting new input and returns once no more submit() calls will come from this source.
  virtual void stop() = 0;
  // For stdin/replay: true once the input is exhausted and everything was submitted.
  virtual bool finished() const { return false; }

  // A reload may start this source's successor while it still runs: its listening socket comes from Listeners and
  // is shared for the handover, and nothing else it holds is exclusive (a file's checkpoint is). False: it is
  // stopped before its successor starts.
  virtual bool hands_over() const { return false; }
  // The handover (hands_over() only): stops accepting before it returns — connections that arrive later wait in
  // the socket's backlog for the successor — and lets its open connections finish on their own (each source's
  // docs say how); stop() ends whatever is left.
  virtual void retire() {}
  // After retire(): true once no connection is left, so stop() cuts nothing short.
  virtual bool drained() const { return true; }
};

// Parses a source's config (reporting errors) and returns what builds it later, so `saker check` never binds.
using SourceBuilder = std::function<std::unique_ptr<Source>(SourceContext&)>;
using SourceParser = SourceBuilder (*)(const ConfigReader&);

// Keys every source accepts besides its own.
inline constexpr std::array<std::string_view, 2> kCommonSourceKeys = {"type", "name"};

// Decodes alerts for one source thread, counts what was received and refused, and batches them for submit().
class AlertIntake {
 public:
  AlertIntake(std::string source, Ingest& ingest, Metrics& metrics, const DecodeLimits& limits);

  // Decodes one JSON text into the pending batch; on failure counts the reason and returns the error.
  // `one_line`: an NDJSON line, already split at '\n'.
  Result<bool> add(std::string_view json, bool one_line = false);
  // A test alert (POST /test): taken whatever the routes' min_priority, marked is_test (every sink takes it) and
  // with the field saker.test: true.
  Result<bool> add_test(std::string_view json);
  // Input in saker's persisted form (replay, dead letters): added fields and arrival time are restored.
  void set_persisted_input() noexcept { mode_ = Decoder::Mode::Persisted; }
  // Counts a refusal the source itself detected (e.g. a line over the size limit).
  void refuse(std::string_view reason);
  std::size_t pending() const noexcept { return batch_.size(); }
  // The alert add() put last into the pending batch (null when it is empty).
  const Alert* last() const noexcept { return batch_.empty() ? nullptr : batch_.back().get(); }
  // Submits the pending batch; false when sinks are full (the batch stays pending, try again later).
  bool flush();
  // Drops the pending batch (used when a request is answered 503 and the sender will retry).
  void discard() {
    publish();
    batch_.clear();
  }
  // Moves the pending batch into `out` (a decode thread hands its alerts to the thread that submits them).
  void take(std::vector<AlertPtr>& out) {
    publish();
    out.swap(batch_);
    batch_.clear();
  }
  // Appends alerts decoded elsewhere to the pending batch, in order; `alerts` is left empty.
  void append(std::vector<AlertPtr>& alerts) {
    if (batch_.empty()) {
      batch_.swap(alerts);
    } else {
      batch_.insert(batch_.end(), std::make_move_iterator(alerts.begin()), std::make_move_iterator(alerts.end()));
    }
    alerts.clear();
  }

 private:
  std::string source_;
  Ingest& ingest_;
  Metrics& metrics_;
  Decoder decoder_;
  Decoder::Mode mode_ = Decoder::Mode::Received;
  std::shared_ptr<const StageChain> stages_;  // refreshed from ingest_ when a batch starts (refresh())
  void refresh();  // the current stages and floor, from ingest_
  std::vector<AlertPtr> batch_;
  // Adds the alerts decoded since the last call to saker_alerts_received_total (one atomic add per batch, not per
  // alert: decode threads of one source share the series).
  void publish();

  Counter& received_;
  Counter& unrouted_;
  std::uint64_t unpublished_ = 0;
  std::uint64_t unrouted_unpublished_ = 0;
  Timing& decode_time_;  // sampled: one decode in kTimingSample
  static constexpr std::uint64_t kTimingSample = 16;
  std::uint64_t decodes_ = kTimingSample - 1;  // the first decode is timed
  std::map<std::string, Counter*, std::less<>> refused_;
};

}  // namespace saker
