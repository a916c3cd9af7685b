#include "sinks/webhook.hpp"

#include <fmt/format.h>

#include "sinks/http_client.hpp"

namespace saker {
namespace {

enum class BatchFormat { json_array, ndjson, single };

struct WebhookConfig {
  std::string url;
  std::string method = "POST";
  BatchFormat batch_format = BatchFormat::json_array;
  std::string content_type;
  std::uint64_t max_bytes = 4 * 1024 * 1024;
  HttpClientOptions http;
};

class WebhookSink final : public Sink {
 public:
  WebhookSink(WebhookConfig cfg, SinkContext& ctx)
      : cfg_(std::move(cfg)),
        ctx_(ctx),
        client_(cfg_.http, ctx.name, ctx.metrics),
        dead_("webhook", ctx.metrics.counter("saker_webhook_rejected_total", "Alerts a webhook refused for good (4xx)",
                                  {{"sink", ctx.name}})) {}

  Result<bool> write(std::span<const AlertPtr> batch) override {
    progress_.begin(batch);
    batch_ = batch;
    pending_ = progress_.pending();
    records_.clear();
    offsets_.assign(1, 0);
    for (const std::size_t i : pending_) {
      ctx_.formatter->format(*batch[i], records_);
      if (cfg_.batch_format == BatchFormat::json_array) records_.push_back(',');
      if (cfg_.batch_format == BatchFormat::ndjson) records_.push_back('\n');
      offsets_.push_back(records_.size());
    }
    std::vector<Range> ranges;
    if (cfg_.batch_format == BatchFormat::single) {
      for (std::size_t k = 0; k < pending_.size(); ++k) ranges.push_back({k, k + 1});
    } else {
      ranges = split_by_bytes(offsets_, cfg_.max_bytes);
    }
    dead_.begin();
    auto r = send_ranges(ranges, [this](Range rg) { return send(rg); },
                         [this](std::size_t pos) { reject({pos, pos + 1}, "HTTP 413: the alert alone is too large"); });
    dead_.log(ctx_);
    if (r) progress_.clear();
    return r;
  }

 private:
  RangeOutcome send(Range rg) {
    std::string_view slice(records_.data() + offsets_[rg.begin], offsets_[rg.end] - offsets_[rg.begin]);
    std::string body;
    if (cfg_.batch_format == BatchFormat::json_array) {
      slice.remove_suffix(1);  // the last record's ','
      body.reserve(slice.size() + 2);
      body.append("[").append(slice).append("]");
      slice = body;
    }
    auto resp = client_.send(cfg_.method, cfg_.url, slice, cfg_.content_type);
    if (!resp) return RangeOutcome{RangeOutcome::retry, resp.error(), std::nullopt};
    const long status = resp->status;
    if (status >= 200 && status < 300) {
      for (std::size_t k = rg.begin; k < rg.end; ++k) progress_.settle(pending_[k]);
      return RangeOutcome{};
    }
    if (status == 413) return RangeOutcome{RangeOutcome::too_large, {}, std::nullopt};
    const std::string what = http_status_summary(resp.value());
    if (status < 400 || status == 401 || status == 403 || status == 408 || status == 429 || status >= 500) {
      const char* hint = status == 401 || status == 403 ? "; check `auth` and `headers`"
                         : status < 400                  ? "; redirects are not followed, set `url` to the final address"
                                                         : "";
      return RangeOutcome{RangeOutcome::retry,
                          make_error("http_status", fmt::format("{} {}: {}{}", cfg_.method, cfg_.url, what, hint)),
                          std::nullopt};
    }
    reject(rg, what);
    return RangeOutcome{};
  }

  void reject(Range rg, const std::string& why) {
    for (std::size_t k = rg.begin; k < rg.end; ++k) {
      dead_.add(ctx_, *batch_[pending_[k]], why);
      progress_.settle(pending_[k]);
    }
  }

  WebhookConfig cfg_;
  SinkContext ctx_;
  HttpClient client_;
  DeadLetterGroup dead_;
  BatchProgress progress_;
  std::span<const AlertPtr> batch_;
  std::vector<std::size_t> pending_;
  std::string records_;
  std::vector<std::size_t> offsets_;
};

}  // namespace

SinkBuilder parse_webhook_sink(const ConfigReader& r) {
  r.only({"url", "method", "batch_format", "content_type", "max_bytes"}, http_sink_keys());
  WebhookConfig cfg;
  cfg.http = parse_http_client_options(r);
  cfg.url = check_http_url(r, r.node["url"], r.string("url", "", true), cfg.http.tls);
  cfg.method = r.string("method", "POST");
  if (cfg.method != "POST" && cfg.method != "PUT") r.errors.add(r.node["method"], r.key_name("method"), "must be POST or PUT");
  const std::string fmt_name = r.string("batch_format", "json_array");
  if (fmt_name == "ndjson") {
    cfg.batch_format = BatchFormat::ndjson;
  } else if (fmt_name == "single") {
    cfg.batch_format = BatchFormat::single;
  } else if (fmt_name != "json_array") {
    r.errors.add(r.node["batch_format"], r.key_name("batch_format"), "must be json_array, ndjson or single");
  }
  cfg.content_type =
      r.string("content_type", cfg.batch_format == BatchFormat::ndjson ? "application/x-ndjson" : "application/json");
  cfg.max_bytes = r.size("max_bytes", cfg.max_bytes);
  return [cfg](SinkContext& ctx) -> std::unique_ptr<Sink> { return std::make_unique<WebhookSink>(cfg, ctx); };
}

}  // namespace saker
