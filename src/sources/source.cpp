#include "sources/source.hpp"

#include <chrono>

namespace saker {

AlertIntake::AlertIntake(std::string source, Ingest& ingest, Metrics& metrics, const DecodeLimits& limits)
    : source_(std::move(source)),
      ingest_(ingest),
      metrics_(metrics),
      decoder_(limits),
      received_(metrics.counter("saker_alerts_received_total", "Alerts decoded and accepted, by source",
                                {{"source", source_}})),
      unrouted_(metrics.counter("saker_alerts_unrouted_total", "Alerts no sink's route matched")),
      decode_time_(metrics.timing("saker_decode_seconds", "Time spent decoding alerts, by source",
                                  {{"source", source_}})) {
  batch_.reserve(256);
  decoder_.set_floor(ingest.floor());
  decoder_.set_clock(ingest.clock());
  stages_ = ingest.stages();
  decoder_.set_stages(stages_ != nullptr);
}

void AlertIntake::refresh() {
  stages_ = ingest_.stages();
  decoder_.set_stages(stages_ != nullptr);
  decoder_.set_floor(ingest_.floor());
}

Result<bool> AlertIntake::add(std::string_view json, bool one_line) {
  // A batch is decoded with the stages and floor current when it starts: a reload applies from the next batch on.
  if (batch_.empty() && !unpublished_) refresh();
  // One decode in kTimingSample is timed: two clock reads cost about as much as a tenth of a decode.
  const bool timed = (++decodes_ % kTimingSample) == 0;
  const auto t0 = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  auto r = mode_ == Decoder::Mode::Received ? decoder_.decode(json, one_line) : decoder_.decode(json, mode_);
  if (timed) {
    decode_time_.observe_ns(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
  }
  if (!r) {
    refuse(r.error().code);
    return r.error();
  }
  ++unpublished_;
  if (!r.value()) {  // valid, but below every route's min_priority
    ++unrouted_unpublished_;
    return true;
  }
  std::shared_ptr<Alert> alert = std::move(r).value();
  if (stages_) stages_->run(*alert);  // still this thread's alone: stages may add fields
  batch_.push_back(std::move(alert));
  return true;
}

Result<bool> AlertIntake::add_test(std::string_view json) {
  if (batch_.empty() && !unpublished_) refresh();
  decoder_.set_floor(Priority::Debug);
  auto r = decoder_.decode(json);
  decoder_.set_floor(ingest_.floor());
  if (!r) return r.error();
  std::shared_ptr<Alert> alert = std::move(r).value();
  alert->is_test = true;
  Value yes;
  yes.kind = Value::Kind::Bool;
  yes.boolean = true;
  alert->add_field("saker.test", yes);
  if (stages_) stages_->run(*alert);
  ++unpublished_;
  batch_.push_back(std::move(alert));
  return true;
}

void AlertIntake::refuse(std::string_view reason) {
  auto it = refused_.find(reason);
  if (it == refused_.end()) {
    Counter& c = metrics_.counter("saker_alerts_refused_total", "Alerts refused at decode, by source and reason",
                                  {{"source", source_}, {"reason", std::string(reason)}});
    it = refused_.emplace(std::string(reason), &c).first;
  }
  it->second->inc();
}

void AlertIntake::publish() {
  if (unpublished_) received_.inc(unpublished_);
  if (unrouted_unpublished_) unrouted_.inc(unrouted_unpublished_);
  unpublished_ = unrouted_unpublished_ = 0;
}

bool AlertIntake::flush() {
  publish();
  if (batch_.empty()) {
    refresh();
    return true;
  }
  return ingest_.submit(batch_);
}

}  // namespace saker
