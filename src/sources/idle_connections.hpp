#pragma once
// The connections of one source that wait for their sender, oldest first. When max_connections are open, a new
// connection takes the place of the one idle the longest, so idle or stalled senders cannot lock live ones out.
// Shared by the io threads of the tcp and http sources; each connection lists and unlists itself on its own thread.
#include <cstddef>
#include <mutex>
#include <string>

#include "observe/metrics.hpp"

namespace saker {

class IdleConnections {
 public:
  // A connection's place in the list, a base of the connection itself.
  class Member {
   public:
    // Called by evict_oldest() with the list's lock held, on the accepting thread: must only hand the close to
    // the connection's own thread (post). It must not close or destroy anything, nor drop the last reference to the
    // connection, whose destructor takes the same lock: move the reference into the handler. A plain function, not
    // a virtual one, so it may run while the connection's destructor waits for the lock.
    using Evict = void (*)(Member&);
    explicit Member(Evict evict) : evict_(evict) {}
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;

   private:
    friend class IdleConnections;
    const Evict evict_;
    Member* prev_ = nullptr;  // the next-older idle connection
    Member* next_ = nullptr;
    bool listed_ = false;        // guarded by the list's lock
    bool evicted_ = false;       // ditto
    bool maybe_listed_ = false;  // the owner's thread only: idle() was called since the last busy()
  };

  IdleConnections() = default;
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;

  // The connection waits for its sender: listed as the newest idle one (a listed one keeps its place).
  void idle(Member& m);
  // The sender sent something: unlists it. False when it was evicted meanwhile: the connection must close.
  bool busy(Member& m);
  // Unlists it for good; the connection's destructor calls this first.
  void remove(Member& m);
  // Evicts the connection idle the longest (its evict() is called); false when none is idle.
  bool evict_oldest();
  std::size_t size() const;

 private:
  void unlink(Member& m);

  mutable std::mutex mu_;
  Member* oldest_ = nullptr;
  Member* newest_ = nullptr;
  std::size_t size_ = 0;
};

// The counters both connection sources keep, labelled {source}.
struct ConnectionLimitMetrics {
  ConnectionLimitMetrics(Metrics& metrics, const std::string& source);
  Counter& evicted;        // saker_source_connections_evicted_total
  Counter& idle_timeouts;  // saker_source_idle_timeouts_total
};

}  // namespace saker
