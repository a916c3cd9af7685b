#pragma once
// The open connections of one source and which of them wait for their sender, oldest first. At max_connections a
// new connection takes the place of the one idle the longest, so idle or stalled senders cannot lock live ones out.
// Shared by the io threads of the tcp and http sources: the accepting thread admits connections, each connection
// lists and unlists itself on its own thread, and the count and the list change together under one lock, so a
// connection whose close is still on its way to another thread never holds a place nor is chosen twice.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "observe/metrics.hpp"

namespace saker {

class ConnectionLimit {
 public:
  // A connection's place, a base of the connection itself.
  class Member {
   public:
    // Called by admit() with the lock held, on the accepting thread, for the connection a new one replaces: must
    // only hand the close to the connection's own thread (post) and return true. It returns false when the
    // connection is being destroyed already (its destructor waits for the lock): then nothing is evicted and its
    // place is simply free. It must not close or destroy anything, nor drop the last reference to the connection:
    // move the reference into the handler. A plain function, not a virtual one, so it may run while the
    // connection's destructor waits for the lock.
    using Evict = bool (*)(Member&);
    explicit Member(Evict evict) : evict_(evict) {}
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;

   private:
    friend class ConnectionLimit;
    enum class State : std::uint8_t {
      Outside,  // not admitted (yet, or refused)
      Open,     // holds a place
      Evicted,  // its place went to a new connection; its close is on its way
      Left,     // closes for a reason of its own; its place is free
    };
    const Evict evict_;
    Member* prev_ = nullptr;  // the next-older idle connection
    Member* next_ = nullptr;
    State state_ = State::Outside;  // guarded by the lock
    bool listed_ = false;           // ditto
    // The owner's thread only: another thread may have changed this member since the owner last looked (it was
    // listed, or found evicted), so busy() must take the lock.
    bool unsure_ = false;
  };

  explicit ConnectionLimit(std::size_t max_connections) : max_(max_connections) {}
  ConnectionLimit(const ConnectionLimit&) = delete;
  ConnectionLimit& operator=(const ConnectionLimit&) = delete;

  enum class Admission {
    Admitted,  // a place was free
    Evicted,   // it took the place of the connection idle the longest, whose evict() was called
    Refused,   // every place is held by a busy connection
  };
  // On the accepting thread, before the connection is handed to its own thread: a place for `m`, which is listed
  // as the newest idle connection from now on (it has sent nothing yet).
  Admission admit(Member& m);
  // The connection waits for its sender: listed as the newest idle one (a listed one keeps its place). Nothing once
  // it was evicted or left; false when it was evicted: it must close.
  bool idle(Member& m);
  // The sender sent something: unlists it. False when it was evicted meanwhile: the connection must close.
  bool busy(Member& m);
  // The connection closes for a reason of its own (its sender left, idle_timeout, an error, stop): unlisted for
  // good and its place freed at once. False when it was evicted first: then its close is the eviction's, and
  // counts as that alone.
  bool leave(Member& m);
  // The connection's destructor calls this first: leave() unless it did.
  void remove(Member& m) { leave(m); }

  std::size_t open() const;  // places held
  std::size_t idle() const;  // of those, the ones listed as idle

 private:
  void link_newest(Member& m);
  void unlink(Member& m);

  const std::size_t max_;
  mutable std::mutex mu_;
  std::size_t open_ = 0;
  std::size_t idle_ = 0;
  Member* oldest_ = nullptr;
  Member* newest_ = nullptr;
};

// The counters both connection sources keep, labelled {source}.
struct ConnectionLimitMetrics {
  ConnectionLimitMetrics(Metrics& metrics, const std::string& source);
  Counter& evicted;        // saker_source_connections_evicted_total
  Counter& idle_timeouts;  // saker_source_idle_timeouts_total
};

}  // namespace saker
