#include "sinks/loki.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "core/json_text.hpp"
#include "sinks/http_client.hpp"

namespace saker {
namespace {

constexpr std::size_t kMaxLabelValue = 2048;

struct LokiConfig {
  std::string url;
  std::vector<LokiLabel> labels;
  std::vector<std::pair<std::string, std::string>> static_labels;  // sorted by name
  std::string tenant;
  std::uint64_t max_bytes = 4 * 1024 * 1024;
  HttpClientOptions http;
};

class LokiSink final : public Sink {
 public:
  LokiSink(LokiConfig cfg, SinkContext& ctx)
      : cfg_(std::move(cfg)),
        ctx_(ctx),
        client_(cfg_.http, ctx.name, ctx.metrics),
        dead_("loki", ctx.metrics.counter("saker_loki_rejected_total", "Alerts Loki refused for good (HTTP 4xx)",
                                  {{"sink", ctx.name}})) {
    if (!cfg_.tenant.empty()) extra_.emplace_back("X-Scope-OrgID", cfg_.tenant);
  }

  Result<bool> write(std::span<const AlertPtr> batch) override {
    progress_.begin(batch);
    batch_ = batch;
    pending_ = progress_.pending();
    lines_.clear();
    offsets_.assign(1, 0);
    for (const std::size_t i : pending_) {
      ctx_.formatter->format(*batch[i], lines_);
      offsets_.push_back(lines_.size());
    }
    dead_.begin();
    auto r = send_ranges(split_by_bytes(offsets_, cfg_.max_bytes), [this](Range rg) { return send(rg); },
                         [this](std::size_t pos) { reject({pos, pos + 1}, "HTTP 413: the alert alone is too large"); });
    dead_.log(ctx_);
    if (r) progress_.clear();
    return r;
  }

 private:
  RangeOutcome send(Range rg) {
    std::vector<LokiEntry> entries;
    entries.reserve(rg.size());
    for (std::size_t k = rg.begin; k < rg.end; ++k) {
      entries.push_back({batch_[pending_[k]].get(),
                         std::string_view(lines_.data() + offsets_[k], offsets_[k + 1] - offsets_[k])});
    }
    const std::string body = build_loki_push(entries, cfg_.labels, cfg_.static_labels);
    auto resp = client_.send("POST", cfg_.url, body, "application/json", extra_);
    if (!resp) return RangeOutcome{RangeOutcome::retry, resp.error(), std::nullopt};
    const long status = resp->status;
    if (status >= 200 && status < 300) {
      for (std::size_t k = rg.begin; k < rg.end; ++k) progress_.settle(pending_[k]);
      return RangeOutcome{};
    }
    if (status == 413) return RangeOutcome{RangeOutcome::too_large, {}, std::nullopt};
    const std::string what = http_status_summary(resp.value());
    if (status >= 400 && status < 500 && status != 401 && status != 403 && status != 404 && status != 408 &&
        status != 429) {
      reject(rg, what);  // 400: out of order, too old, bad labels, line too long: sending again cannot help
      return RangeOutcome{};
    }
    const char* hint = status == 401 || status == 403 ? "; check `auth` and `tenant`"
                       : status == 404                 ? "; check `url`"
                                                       : "";
    return RangeOutcome{RangeOutcome::retry, make_error("http_status", fmt::format("POST {}: {}{}", cfg_.url, what, hint)),
                        std::nullopt};
  }

  void reject(Range rg, const std::string& why) {
    for (std::size_t k = rg.begin; k < rg.end; ++k) {
      dead_.add(ctx_, *batch_[pending_[k]], why);
      progress_.settle(pending_[k]);
    }
  }

  LokiConfig cfg_;
  SinkContext ctx_;
  HttpClient client_;
  HttpHeaders extra_;
  DeadLetterGroup dead_;
  BatchProgress progress_;
  std::span<const AlertPtr> batch_;
  std::vector<std::size_t> pending_;
  std::string lines_;
  std::vector<std::size_t> offsets_;
};

// name: field maps; names are sanitized (a name that had to change is reported, two that collide are an error).
template <typename Add>
void read_label_map(const ConfigReader& r, const char* key, Add add) {
  const YAML::Node node = r.node[key];
  if (!node.IsMap()) {
    r.errors.add(node, r.key_name(key), "must be a map of label: value");
    return;
  }
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>("");
    if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
      r.errors.add(kv.first, r.key_name(key), fmt::format("\"{}\": the value must be a non-empty string", name));
      continue;
    }
    const std::string clean = sanitize_loki_label_name(name);
    if (clean.starts_with("__")) {
      r.errors.add(kv.first, r.key_name(key), fmt::format("\"{}\": names starting with __ are reserved by Loki", name));
      continue;
    }
    add(kv.first, clean, kv.second.Scalar());
  }
}

}  // namespace

std::string sanitize_loki_label_name(std::string_view name) {
  std::string out;
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) out.push_back('_');
  for (const char c : name) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_');
  return out;
}

std::string sanitize_loki_label_value(std::string_view value) {
  if (value.size() <= kMaxLabelValue) return std::string(value);
  std::size_t n = kMaxLabelValue;
  while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;  // don't split a UTF-8 sequence
  return std::string(value.substr(0, n));
}

std::string build_loki_push(std::span<const LokiEntry> entries, std::span<const LokiLabel> labels,
                            std::span<const std::pair<std::string, std::string>> static_labels) {
  struct Stream {
    std::string labels;  // the rendered "stream" object
    std::vector<const LokiEntry*> entries;
  };
  std::vector<Stream> streams;
  std::unordered_map<std::string, std::size_t> by_labels;
  std::map<std::string, std::string> set;
  Value v;
  for (const LokiEntry& e : entries) {
    set.clear();
    for (const auto& [name, value] : static_labels) set[name] = value;
    for (const LokiLabel& l : labels) {
      if (!e.alert->lookup(l.field, v)) continue;
      std::string text = sanitize_loki_label_value(v.to_text());
      if (!text.empty()) set[l.name] = std::move(text);
    }
    if (set.empty()) set["job"] = "falco";
    std::string rendered = "{";
    for (const auto& [name, value] : set) {
      if (rendered.size() > 1) rendered.push_back(',');
      append_json_string(rendered, name);
      rendered.push_back(':');
      append_json_string(rendered, value);
    }
    rendered.push_back('}');
    auto [it, fresh] = by_labels.try_emplace(rendered, streams.size());
    if (fresh) streams.push_back({std::move(rendered), {}});
    streams[it->second].entries.push_back(&e);
  }
  std::string out = "{\"streams\":[";
  for (std::size_t s = 0; s < streams.size(); ++s) {
    auto& st = streams[s];
    std::stable_sort(st.entries.begin(), st.entries.end(),
                     [](const LokiEntry* a, const LokiEntry* b) { return a->alert->time_ns < b->alert->time_ns; });
    out.append(s ? ",{\"stream\":" : "{\"stream\":").append(st.labels).append(",\"values\":[");
    for (std::size_t i = 0; i < st.entries.size(); ++i) {
      fmt::format_to(std::back_inserter(out), "{}[\"{}\",", i ? "," : "", st.entries[i]->alert->time_ns);
      append_json_string(out, st.entries[i]->line);
      out.push_back(']');
    }
    out.append("]}");
  }
  out.append("]}");
  return out;
}

SinkBuilder parse_loki_sink(const ConfigReader& r) {
  r.only({"url", "labels", "static_labels", "tenant", "max_bytes"}, http_sink_keys());
  LokiConfig cfg;
  cfg.http = parse_http_client_options(r);
  const std::string base = check_http_url(r, r.node["url"], r.string("url", "", true), cfg.http.tls);
  cfg.url = url_with_path(base, "/loki/api/v1/push", "/api/prom/push");
  std::map<std::string, std::string> seen;  // sanitized name -> as written
  auto note = [&](const YAML::Node& at, const std::string& clean, const std::string& as_written) {
    if (auto [it, fresh] = seen.emplace(clean, as_written); !fresh) {
      r.errors.add(at, r.key_name("labels"), fmt::format("\"{}\" and \"{}\" are both the label \"{}\"", it->second,
                                                         as_written, clean));
      return false;
    }
    return true;
  };
  if (r.has("labels")) {
    read_label_map(r, "labels", [&](const YAML::Node& at, const std::string& name, const std::string& field) {
      if (note(at, name, at.as<std::string>(""))) cfg.labels.push_back({name, field});
    });
  } else {
    for (const char* f : {"rule", "priority", "hostname", "source"}) cfg.labels.push_back({f, f});
    for (const char* f : {"rule", "priority", "hostname", "source"}) seen.emplace(f, f);
  }
  if (r.has("static_labels")) {
    read_label_map(r, "static_labels", [&](const YAML::Node& at, const std::string& name, const std::string& value) {
      if (note(at, name, at.as<std::string>(""))) cfg.static_labels.emplace_back(name, sanitize_loki_label_value(value));
    });
  }
  std::sort(cfg.static_labels.begin(), cfg.static_labels.end());
  cfg.tenant = r.string("tenant");
  cfg.max_bytes = r.size("max_bytes", cfg.max_bytes);
  return [cfg](SinkContext& ctx) -> std::unique_ptr<Sink> { return std::make_unique<LokiSink>(cfg, ctx); };
}

}  // namespace saker
