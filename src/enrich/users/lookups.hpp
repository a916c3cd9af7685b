#pragma once
// The users stage's answers from a directory, remembered for a time, and the lookups that fetch them: an alert
// never waits for the directory. get() answers from the cache; a user it has no answer for (or only an expired
// one) is queued for the lookup thread and the alert goes on without the fields; the next alerts of that user get
// the answer once it came. "No such user" is remembered as long as an answer. A full queue drops the request (it is
// asked again by the user's next alert); a directory that fails is not remembered: the next alert asks again.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "enrich/users/directory.hpp"
#include "enrich/users/user_fields.hpp"
#include "observe/metrics.hpp"

namespace saker {

struct UserLookupOptions {
  std::chrono::milliseconds ttl{std::chrono::minutes(10)};  // answers, found or not
  std::size_t max_entries = 100'000;                        // users remembered
  std::size_t queue = 1024;                                  // lookups waiting for the thread
};

class UserLookups {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // `threads`: lookup threads to start (0 in tests: run_queued() runs them on the caller's thread).
  UserLookups(std::unique_ptr<UserDirectory> directory, const UserLookupOptions& options, Metrics& metrics,
              const std::string& stage, unsigned threads = 1, Clock clock = nullptr);
  ~UserLookups();  // stops the threads once their current lookup returns (the directory's timeout bounds it)
  UserLookups(const UserLookups&) = delete;
  UserLookups& operator=(const UserLookups&) = delete;

  enum class State { Found, NotFound, Miss };
  struct Answer {
    State state = State::Miss;
    UserBlock block;  // Found: the user's fields
  };
  // The remembered answer for `key` (the filter's values joined by '\0': `values`); Miss queues a lookup unless one
  // is queued or running for it or the queue is full. Never blocks on the directory. Thread-safe.
  Answer get(const std::string& key, const std::vector<std::string>& values);
  // Runs the queued lookups on this thread; how many ran (tests, with no lookup thread).
  std::size_t run_queued();
  std::size_t size() const;

 private:
  struct Request {
    std::string key;
    std::vector<std::string> values;
  };
  struct Entry {
    std::chrono::steady_clock::time_point expires;
    bool found = false;
    UserBlock block;
  };
  void run();
  void look_up(const Request& r);
  void remember(const std::string& key, Entry e);

  std::unique_ptr<UserDirectory> directory_;
  UserLookupOptions options_;
  Clock clock_;
  Counter &found_, &not_found_, &errors_, &dropped_;
  Gauge& entries_gauge_;

  mutable std::shared_mutex cache_mu_;
  std::unordered_map<std::string, Entry> cache_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Request> queue_;
  std::unordered_set<std::string> pending_;  // queued or being looked up
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace saker
