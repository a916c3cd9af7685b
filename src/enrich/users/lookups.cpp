#include "enrich/users/lookups.hpp"

#include <spdlog/spdlog.h>

namespace saker {

UserLookups::UserLookups(std::unique_ptr<UserDirectory> directory, const UserLookupOptions& options, Metrics& metrics,
                         const std::string& stage, unsigned threads, Clock clock)
    : directory_(std::move(directory)),
      options_(options),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      found_(metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                             {{"stage", stage}, {"result", "found"}})),
      not_found_(metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                                 {{"stage", stage}, {"result", "not_found"}})),
      errors_(metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                              {{"stage", stage}, {"result", "error"}})),
      dropped_(metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                               {{"stage", stage}, {"result", "dropped"}})),
      entries_gauge_(metrics.gauge("saker_enrich_cache_entries", "Answers a stage remembers", {{"stage", stage}})) {
  entries_gauge_.set(0);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

UserLookups::~UserLookups() {
  {
    std::lock_guard lock(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

UserLookups::Answer UserLookups::get(const std::string& key, const std::vector<std::string>& values) {
  {
    std::shared_lock lock(cache_mu_);
    if (auto it = cache_.find(key); it != cache_.end() && it->second.expires > clock_()) {
      Answer a;
      a.state = it->second.found ? State::Found : State::NotFound;
      a.block = it->second.block;
      return a;
    }
  }
  std::lock_guard lock(queue_mu_);
  if (pending_.contains(key)) return {};
  if (queue_.size() >= options_.queue) {
    dropped_.inc();
    return {};
  }
  pending_.insert(key);
  queue_.push_back({key, values});
  queue_cv_.notify_one();
  return {};
}

void UserLookups::look_up(const Request& r) {
  UserRecord record;
  std::string error;
  const UserDirectory::Status s = directory_->find(r.values, record, error);
  switch (s) {
    case UserDirectory::Status::Found: {
      found_.inc();
      Entry e;
      e.found = true;
      e.block = UserBlock::of(record);
      e.expires = clock_() + options_.ttl;
      remember(r.key, std::move(e));
      break;
    }
    case UserDirectory::Status::NotFound: {
      not_found_.inc();
      Entry e;
      e.expires = clock_() + options_.ttl;
      remember(r.key, std::move(e));
      break;
    }
    case UserDirectory::Status::Error:
      errors_.inc();
      spdlog::debug("users: lookup failed: {}", error);
      break;
  }
  std::lock_guard lock(queue_mu_);
  pending_.erase(r.key);
}

void UserLookups::remember(const std::string& key, Entry e) {
  std::unique_lock lock(cache_mu_);
  if (cache_.size() >= options_.max_entries && !cache_.contains(key)) {
    const auto now = clock_();
    std::erase_if(cache_, [now](const auto& kv) { return kv.second.expires <= now; });
    // Still full: one answer goes (any; the next alert of that user asks again).
    if (cache_.size() >= options_.max_entries && !cache_.empty()) cache_.erase(cache_.begin());
  }
  if (options_.max_entries == 0) return;
  cache_.insert_or_assign(key, std::move(e));
  entries_gauge_.set(static_cast<std::int64_t>(cache_.size()));
}

void UserLookups::run() {
  while (true) {
    Request r;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      r = std::move(queue_.front());
      queue_.pop_front();
    }
    look_up(r);
  }
}

std::size_t UserLookups::run_queued() {
  std::size_t n = 0;
  while (true) {
    Request r;
    {
      std::lock_guard lock(queue_mu_);
      if (queue_.empty()) return n;
      r = std::move(queue_.front());
      queue_.pop_front();
    }
    look_up(r);
    ++n;
  }
}

std::size_t UserLookups::size() const {
  std::shared_lock lock(cache_mu_);
  return cache_.size();
}

}  // namespace saker
