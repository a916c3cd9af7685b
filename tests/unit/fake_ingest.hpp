#pragma once
// A fake pipeline for source tests: records what a source submits and can push back like full sinks.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sources/source.hpp"

namespace saker::test {

// Records every accepted alert; `full` makes submit() refuse like a pipeline whose sink queues are full.
class FakeIngest : public Ingest {
 public:
  bool submit(std::vector<AlertPtr>& batch) override {
    std::lock_guard lk(mu_);
    ++calls_;
    if (full) return false;
    for (auto& a : batch) outputs_.emplace_back(a->output);
    batch.clear();
    return true;
  }
  std::string health(bool& healthy) const override {
    healthy = true;
    return "{}";
  }
  std::vector<std::string> outputs() const {
    std::lock_guard lk(mu_);
    return outputs_;
  }
  std::size_t count() const {
    std::lock_guard lk(mu_);
    return outputs_.size();
  }
  bool has(const std::string& output) const {
    std::lock_guard lk(mu_);
    return std::find(outputs_.begin(), outputs_.end(), output) != outputs_.end();
  }
  std::size_t calls() const {
    std::lock_guard lk(mu_);
    return calls_;
  }
  std::atomic<bool> full{false};

 private:
  mutable std::mutex mu_;
  std::vector<std::string> outputs_;
  std::size_t calls_ = 0;
};

inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return cond();
}

}  // namespace saker::test
