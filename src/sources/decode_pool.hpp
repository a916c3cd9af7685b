#pragma once
// DecodePool: a few threads that decode chunks of NDJSON lines for one source, so a single busy connection is
// decoded on more than one core. Each thread has its own decoder and counters; the source keeps the order by
// submitting finished chunks in the order it read them (see TcpSource).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sources/line_splitter.hpp"

namespace saker {

class DecodePool {
 public:
  struct Chunk {
    LineSplitter::Block block;     // lines, each ending in '\n' (the last one may lack it)
    std::vector<AlertPtr> alerts;  // the good ones, in order, once decoded
    bool done = false;             // for the owner: set on its own thread when done() told it
  };

  DecodePool(std::size_t threads, SourceContext& ctx, std::shared_ptr<RateLimiter> log_limit, std::size_t max_line);
  ~DecodePool();
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;

  // Decodes `chunk` on a pool thread, then calls done() on that thread. Bad and over-long (max_line) lines are
  // counted and logged there.
  void submit(std::shared_ptr<Chunk> chunk, std::function<void()> done);
  // Returns once every chunk submitted so far is decoded and its done() has returned.
  void wait_idle();

 private:
  struct Job {
    std::shared_ptr<Chunk> chunk;
    std::function<void()> done;
  };
  struct Thread;
  void run(Thread& t);

  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable idle_;
  std::deque<Job> jobs_;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Thread>> threads_;
};

}  // namespace saker
