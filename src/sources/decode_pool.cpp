#include "sources/decode_pool.hpp"

#include <cstring>

namespace saker {

struct DecodePool::Thread {
  Thread(SourceContext& ctx, std::shared_ptr<RateLimiter> log_limit, std::size_t max_line)
      : intake(ctx.name, ctx.ingest, ctx.metrics, ctx.limits), lines(ctx.name, intake, std::move(log_limit), max_line) {}

  AlertIntake intake;  // decodes and counts; never submits (the source does, in order)
  LineDecoder lines;
  std::thread thread;
};

DecodePool::DecodePool(std::size_t threads, SourceContext& ctx, std::shared_ptr<RateLimiter> log_limit,
                       std::size_t max_line) {
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
    threads_.push_back(std::make_unique<Thread>(ctx, log_limit, max_line));
  }
  for (auto& t : threads_) {
    Thread* tp = t.get();
    t->thread = std::thread([this, tp] { run(*tp); });
  }
}

DecodePool::~DecodePool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) {
    if (t->thread.joinable()) t->thread.join();
  }
}

void DecodePool::submit(std::shared_ptr<Chunk> chunk, std::function<void()> done) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(Job{std::move(chunk), std::move(done)});
  }
  work_.notify_one();
}

void DecodePool::wait_idle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return jobs_.empty() && busy_ == 0; });
}

void DecodePool::run(Thread& t) {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and every job is done
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++busy_;
    lock.unlock();
    const std::string_view text = job.chunk->block.lines;
    std::size_t at = 0;
    while (at < text.size()) {
      const void* nl = std::memchr(text.data() + at, '\n', text.size() - at);
      const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
      t.lines.checked_line(text.substr(at, end - at));
      at = end + 1;
    }
    t.intake.take(job.chunk->alerts);
    job.done();
    job = Job{};
    lock.lock();
    --busy_;
    if (jobs_.empty() && busy_ == 0) idle_.notify_all();
  }
}

}  // namespace saker
