#include "observe/metrics.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace saker {

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out.push_back(',');
    out.append(labels[i].first).append("=\"");
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out.push_back('\\');
        out.push_back(c);
      } else if (c == '\n') {
        out.append("\\n");
      } else {
        out.push_back(c);
      }
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

Metrics::Metrics(std::shared_ptr<const SecretRedactor> redactor)
    : redactor_(redactor ? std::move(redactor) : std::make_shared<const SecretRedactor>()) {}

std::size_t Metrics::series_index(const std::string& name, const std::string& help, Type type, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = families_.try_emplace(name, Family{type, help, {}});
  if (!inserted && it->second.type != type) throw std::logic_error("metric " + name + " registered with two types");
  const std::string key = render_labels(labels);
  auto s = it->second.series.find(key);
  if (s != it->second.series.end()) return s->second.index;
  std::size_t idx = 0;
  switch (type) {
    case Type::Counter: idx = counters_.size(); counters_.emplace_back(); break;
    case Type::Gauge: idx = gauges_.size(); gauges_.emplace_back(); break;
    case Type::Timing: idx = timings_.size(); timings_.emplace_back(); break;
  }
  it->second.series.emplace(key, Family::Series{idx, labels});
  return idx;
}

Counter& Metrics::counter(const std::string& name, const std::string& help, const Labels& labels) {
  const std::size_t i = series_index(name, help, Type::Counter, labels);
  std::lock_guard lock(mu_);
  return counters_[i];
}

Gauge& Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  const std::size_t i = series_index(name, help, Type::Gauge, labels);
  std::lock_guard lock(mu_);
  return gauges_[i];
}

Timing& Metrics::timing(const std::string& name, const std::string& help, const Labels& labels) {
  const std::size_t i = series_index(name, help, Type::Timing, labels);
  std::lock_guard lock(mu_);
  return timings_[i];
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  auto it = std::back_inserter(out);
  Labels shown;
  auto labels_of = [&](const Family::Series& s) {
    shown = s.labels;
    for (auto& kv : shown) kv.second = redactor_->apply(kv.second);
    return render_labels(shown);
  };
  for (const auto& [name, fam] : families_) {
    switch (fam.type) {
      case Type::Counter:
        fmt::format_to(it, "# HELP {} {}\n# TYPE {} counter\n", name, fam.help, name);
        for (const auto& [key, s] : fam.series) {
          fmt::format_to(it, "{}{} {}\n", name, labels_of(s), counters_[s.index].value());
        }
        break;
      case Type::Gauge:
        fmt::format_to(it, "# HELP {} {}\n# TYPE {} gauge\n", name, fam.help, name);
        for (const auto& [key, s] : fam.series) {
          fmt::format_to(it, "{}{} {}\n", name, labels_of(s), gauges_[s.index].value());
        }
        break;
      case Type::Timing:
        fmt::format_to(it, "# HELP {} {}\n# TYPE {} summary\n", name, fam.help, name);
        for (const auto& [key, s] : fam.series) {
          const std::string labels = labels_of(s);
          fmt::format_to(it, "{}_sum{} {:.9f}\n{}_count{} {}\n", name, labels, timings_[s.index].sum_ns() / 1e9,
                         name, labels, timings_[s.index].count());
        }
        break;
    }
  }
  return out;
}

std::uint64_t Metrics::counter_value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end() || it->second.type != Type::Counter) return 0;
  auto s = it->second.series.find(render_labels(labels));
  return s == it->second.series.end() ? 0 : counters_[s->second.index].value();
}

}  // namespace saker
