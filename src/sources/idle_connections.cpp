#include "sources/idle_connections.hpp"

namespace saker {

void IdleConnections::idle(Member& m) {
  m.maybe_listed_ = true;
  std::lock_guard lock(mu_);
  if (m.listed_ || m.evicted_) return;
  m.listed_ = true;
  m.prev_ = newest_;
  m.next_ = nullptr;
  (newest_ ? newest_->next_ : oldest_) = &m;
  newest_ = &m;
  ++size_;
}

bool IdleConnections::busy(Member& m) {
  if (!m.maybe_listed_) return true;  // not listed since the last busy(): nobody can have evicted it
  m.maybe_listed_ = false;
  std::lock_guard lock(mu_);
  if (m.listed_) unlink(m);
  return !m.evicted_;
}

void IdleConnections::remove(Member& m) {
  if (!m.maybe_listed_) return;
  m.maybe_listed_ = false;
  std::lock_guard lock(mu_);
  if (m.listed_) unlink(m);
}

bool IdleConnections::evict_oldest() {
  std::lock_guard lock(mu_);
  Member* m = oldest_;
  if (m == nullptr) return false;
  unlink(*m);
  m->evicted_ = true;
  m->evict_(*m);
  return true;
}

std::size_t IdleConnections::size() const {
  std::lock_guard lock(mu_);
  return size_;
}

void IdleConnections::unlink(Member& m) {
  (m.prev_ ? m.prev_->next_ : oldest_) = m.next_;
  (m.next_ ? m.next_->prev_ : newest_) = m.prev_;
  m.prev_ = m.next_ = nullptr;
  m.listed_ = false;
  --size_;
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
