#pragma once
// Prometheus text-format metrics. Series are created at start-up (or on first use of a new label value);
// updating one is a relaxed atomic add, so the hot path takes no lock.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "observe/redact.hpp"

namespace saker {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A counter that threads add to on stripes of their own: a stage counts per alert on every decoding thread at once,
// and one shared cache line would move between the cores on every alert. Reading sums the stripes (each only grows,
// so the sum never goes back).
class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { stripes_[stripe()].v.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept {
    std::uint64_t sum = 0;
    for (const auto& s : stripes_) sum += s.v.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr std::size_t kStripes = 8;
  struct alignas(64) Stripe {
    std::atomic<std::uint64_t> v{0};
  };
  // The calling thread's stripe: threads take them in turn as they first count.
  static std::size_t stripe() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return mine;
  }
  Stripe stripes_[kStripes];
};

class Gauge {
 public:
  void set(std::int64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  void add(std::int64_t n) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

// Sum and count of observed durations (Prometheus summary without quantiles).
class Timing {
 public:
  void observe_ns(std::uint64_t ns, std::uint64_t count = 1) noexcept {
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
    count_.fetch_add(count, std::memory_order_relaxed);
  }
  std::uint64_t sum_ns() const noexcept { return sum_ns_.load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> sum_ns_{0};
  std::atomic<std::uint64_t> count_{0};
};

class Metrics {
 public:
  // Label values are shown through `redactor` (no config secret in a scrape); without one, hide_credentials().
  explicit Metrics(std::shared_ptr<const SecretRedactor> redactor = nullptr);

  // The same name and labels always return the same series; references stay valid for the registry's life.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Timing& timing(const std::string& name, const std::string& help, const Labels& labels = {});

  // Prometheus text exposition format 0.0.4.
  std::string render() const;

  // For tests and summaries: the value of one counter series, 0 when absent.
  std::uint64_t counter_value(const std::string& name, const Labels& labels = {}) const;

 private:
  enum class Type { Counter, Gauge, Timing };
  struct Family {
    Type type;
    std::string help;
    struct Series {
      std::size_t index;  // into the type's store
      Labels labels;      // as given, redacted when rendered
    };
    std::map<std::string, Series> series;  // by the label set as given
  };
  std::size_t series_index(const std::string& name, const std::string& help, Type type, const Labels& labels);

  std::shared_ptr<const SecretRedactor> redactor_;
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::deque<Counter> counters_;
  std::deque<Gauge> gauges_;
  std::deque<Timing> timings_;
};

// `{name="value",…}` with the values escaped; empty for no labels.
std::string render_labels(const Labels& labels);

}  // namespace saker
