#include "sources/connection_limit.hpp"

namespace saker {

ConnectionLimit::Admission ConnectionLimit::admit(Member& m) {
  std::lock_guard lock(mu_);
  Admission how = Admission::Admitted;
  while (open_ >= max_) {
    Member* oldest = oldest_;
    if (oldest == nullptr) return Admission::Refused;
    unlink(*oldest);
    if (oldest->evict_(*oldest)) {
      oldest->state_ = Member::State::Evicted;  // its place passes to `m`: the count stays
      how = Admission::Evicted;
      break;
    }
    oldest->state_ = Member::State::Left;  // being destroyed: its place is free, and nobody evicted it
    --open_;
  }
  if (how == Admission::Admitted) ++open_;
  m.state_ = Member::State::Open;
  m.unsure_ = true;  // the owner's thread sees this once the connection is handed to it
  link_newest(m);
  return how;
}

bool ConnectionLimit::idle(Member& m) {
  m.unsure_ = true;
  std::lock_guard lock(mu_);
  if (!m.listed_ && m.state_ == Member::State::Open) link_newest(m);
  return m.state_ != Member::State::Evicted;
}

bool ConnectionLimit::busy(Member& m) {
  if (!m.unsure_) return true;  // not listed since the last busy(): nobody can have evicted it
  std::lock_guard lock(mu_);
  if (m.listed_) unlink(m);
  if (m.state_ == Member::State::Evicted) return false;  // stays unsure: every later busy() says so too
  m.unsure_ = false;
  return true;
}

bool ConnectionLimit::leave(Member& m) {
  std::lock_guard lock(mu_);
  if (m.listed_) unlink(m);
  m.unsure_ = true;
  switch (m.state_) {
    case Member::State::Open:
      m.state_ = Member::State::Left;
      --open_;
      return true;
    case Member::State::Evicted:
      return false;
    case Member::State::Outside:
    case Member::State::Left:
      return true;
  }
  return true;
}

std::size_t ConnectionLimit::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

std::size_t ConnectionLimit::idle() const {
  std::lock_guard lock(mu_);
  return idle_;
}

void ConnectionLimit::link_newest(Member& m) {
  m.listed_ = true;
  m.prev_ = newest_;
  m.next_ = nullptr;
  (newest_ ? newest_->next_ : oldest_) = &m;
  newest_ = &m;
  ++idle_;
}

void ConnectionLimit::unlink(Member& m) {
  (m.prev_ ? m.prev_->next_ : oldest_) = m.next_;
  (m.next_ ? m.next_->prev_ : newest_) = m.prev_;
  m.prev_ = m.next_ = nullptr;
  m.listed_ = false;
  --idle_;
}

ConnectionLimitMetrics::ConnectionLimitMetrics(Metrics& metrics, const std::string& source)
    : evicted(metrics.counter("saker_source_connections_evicted_total",
                              "Idle connections closed to make room for a new one at max_connections, by source",
                              {{"source", source}})),
      idle_timeouts(metrics.counter("saker_source_idle_timeouts_total",
                                    "Connections closed after idle_timeout without a request or a complete line, "
                                    "by source",
                                    {{"source", source}})) {}

}  // namespace saker
