#include "sinks/elasticsearch/sink.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sinks/elasticsearch/bulk_request.hpp"
#include "sinks/elasticsearch/bulk_response.hpp"
#include "sinks/elasticsearch/config.hpp"
#include "sinks/http_client.hpp"

namespace saker {
namespace {

class EsSink final : public Sink {
 public:
  EsSink(EsConfig cfg, SinkContext& ctx)
      : cfg_(std::move(cfg)),
        ctx_(ctx),
        formatter_(cfg_.default_formatter ? cfg_.default_formatter : ctx.formatter),
        client_(cfg_.http, ctx.name, ctx.metrics),
        builder_(cfg_.index, cfg_.op_type, cfg_.add_timestamp, *formatter_),
        created_(item_counter("created")),
        updated_(item_counter("updated")),
        duplicate_(item_counter("duplicate")),
        retried_(item_counter("retried")),
        dead_("elasticsearch", item_counter("dead_letter")),
        setup_done_(0) {}

  // Policies and the template go in on the sink's thread before the first bulk (which creates the index they
  // shape), so an unreachable cluster neither delays start-up nor a reload.
  Result<bool> write(std::span<const AlertPtr> batch) override {
    while (setup_done_ < cfg_.setup.size()) {
      if (auto r = put_setup(cfg_.setup[setup_done_]); !r) return r;
      ++setup_done_;
    }
    progress_.begin(batch);
    batch_ = batch;
    pending_ = progress_.pending();
    body_.clear();
    offsets_.assign(1, 0);
    for (const std::size_t i : pending_) {
      builder_.append(*batch[i], body_);
      offsets_.push_back(body_.size());
    }
    dead_.begin();
    auto r = send_ranges(
        split_by_bytes(offsets_, cfg_.max_bytes), [this](Range rg) { return send_bulk(rg); },
        [this](std::size_t pos) {
          reject(pos, "413 Request Entity Too Large: this one document exceeds the cluster's http.max_content_length");
        });
    dead_.log(ctx_);
    if (r) progress_.clear();
    return r;
  }

 private:
  Counter& item_counter(const char* result) {
    return ctx_.metrics.counter("saker_es_items_total", "Documents of _bulk requests, by outcome",
                                {{"sink", ctx_.name}, {"result", result}});
  }

  std::string bulk_url(const std::string& base) const {
    return cfg_.pipeline.empty() ? base + "/_bulk" : base + "/_bulk?pipeline=" + url_encode(cfg_.pipeline);
  }

  // Tries each URL once, starting with the one that worked last, until one answers. Logs when a URL stops or
  // starts answering, not at every attempt.
  Result<HttpResponse> post(std::string_view body) {
    for (std::size_t tries = 1;; ++tries) {
      url_ = bulk_url(cfg_.urls[url_index_]);
      auto r = client_.send("POST", url_, body, "application/x-ndjson");
      if (r) {
        if (url_down_[url_index_]) spdlog::info("sink {}: {} answers again", ctx_.name, cfg_.urls[url_index_]);
        url_down_[url_index_] = false;
        return r;
      }
      if (!url_down_[url_index_] && cfg_.urls.size() > 1) {
        spdlog::warn("sink {}: {}; trying the next url", ctx_.name, r.error().message);
      }
      url_down_[url_index_] = true;
      if (tries >= cfg_.urls.size()) return r;
      url_index_ = (url_index_ + 1) % cfg_.urls.size();
    }
  }

  static RangeOutcome retry(std::string code, std::string message) {
    return RangeOutcome{RangeOutcome::retry, make_error(std::move(code), std::move(message)), std::nullopt};
  }

  RangeOutcome send_bulk(Range rg) {
    const std::string_view body(body_.data() + offsets_[rg.begin], offsets_[rg.end] - offsets_[rg.begin]);
    auto resp = post(body);
    if (!resp) return RangeOutcome{RangeOutcome::retry, resp.error(), std::nullopt};
    const HttpResponse& res = resp.value();
    if (res.status == 413) return RangeOutcome{RangeOutcome::too_large, {}, std::nullopt};
    if (res.status == 401 || res.status == 403) {
      return retry("auth", fmt::format("POST {}: HTTP {}: authentication or authorization failed, check `auth` ({})", url_,
                                       res.status, parse_es_error(res.body)));
    }
    if (res.status == 429 || res.status >= 500) {
      if (res.status >= 500 && cfg_.urls.size() > 1) url_index_ = (url_index_ + 1) % cfg_.urls.size();
      return retry("busy", fmt::format("POST {}: HTTP {}: the cluster is busy or unavailable ({})", url_, res.status,
                                       parse_es_error(res.body)));
    }
    if (res.status < 200 || res.status >= 300) {
      return retry("http_status", fmt::format("POST {}: unexpected HTTP {} ({}); check `url` and `pipeline`", url_,
                                              res.status, parse_es_error(res.body)));
    }
    auto parsed = parse_bulk_response(res.body);
    if (!parsed) return retry(parsed.error().code, fmt::format("POST {}: {}", url_, parsed.error().message));
    const auto& items = parsed->items;
    if (items.size() != rg.size()) {
      return retry("bad_response", fmt::format("POST {}: {} results for {} documents", url_, items.size(), rg.size()));
    }
    std::size_t retried = 0;
    std::string first_retry;
    for (std::size_t k = rg.begin; k < rg.end; ++k) {
      const BulkItemResult& item = items[k - rg.begin];
      switch (classify_item(item, cfg_.op_type)) {
        case EsItemOutcome::created: created_.inc(); progress_.settle(pending_[k]); break;
        case EsItemOutcome::updated: updated_.inc(); progress_.settle(pending_[k]); break;
        case EsItemOutcome::duplicate: duplicate_.inc(); progress_.settle(pending_[k]); break;
        case EsItemOutcome::dead_letter: reject(k, describe_item_error(item)); break;
        case EsItemOutcome::retry:
          retried_.inc();
          if (retried++ == 0) first_retry = describe_item_error(item);
          break;
      }
    }
    if (retried > 0) {
      return retry("item_retry", fmt::format("POST {}: {} of {} documents refused for now ({}); retrying those", url_,
                                             retried, rg.size(), first_retry));
    }
    return RangeOutcome{};
  }

  void reject(std::size_t pos, const std::string& why) {
    dead_.add(ctx_, *batch_[pending_[pos]], why);
    progress_.settle(pending_[pos]);
  }

  // 429/5xx and transport errors hold delivery back (retried); any other refusal is logged and skipped. OpenSearch
  // answers 409 when an ISM policy exists already: it is left as it is (updating needs its sequence number).
  Result<bool> put_setup(const EsSetup& t) {
    const std::string url = cfg_.urls[url_index_] + t.path();
    auto r = client_.send("PUT", url, t.body, "application/json");
    if (!r) return make_error(r.error().code, fmt::format("{} {}: {}", t.kind_name(), t.name, r.error().message));
    const long status = r->status;
    if (status == 429 || status >= 500) {
      return make_error("setup", fmt::format("{} {}: PUT {}: HTTP {} ({})", t.kind_name(), t.name, url, status,
                                             parse_es_error(r->body)));
    }
    const bool exists = status == 409 && t.kind == EsSetup::Kind::ism_policy;
    const bool ok = status >= 200 && status < 300;
    ctx_.metrics
        .counter("saker_es_setup_total", "Policies and index templates put before the first bulk, by outcome",
                 {{"sink", ctx_.name}, {"object", std::string(t.kind_name())},
                  {"result", ok ? "installed" : exists ? "exists" : "refused"}})
        .inc();
    if (ok) {
      spdlog::info("sink {}: {} \"{}\" installed from {}", ctx_.name, t.kind_name(), t.name, t.file);
    } else if (exists) {
      spdlog::info("sink {}: {} \"{}\" exists already and is left as it is", ctx_.name, t.kind_name(), t.name);
    } else {
      spdlog::error("sink {}: PUT {} refused the {} from {}: HTTP {} ({}); delivering without it", ctx_.name, url,
                    t.kind_name(), t.file, status, parse_es_error(r->body));
    }
    return true;
  }

  EsConfig cfg_;
  SinkContext ctx_;
  std::shared_ptr<const Formatter> formatter_;
  HttpClient client_;
  BulkBuilder builder_;
  Counter& created_;
  Counter& updated_;
  Counter& duplicate_;
  Counter& retried_;
  DeadLetterGroup dead_;
  std::size_t setup_done_;  // cfg_.setup[0, setup_done_) are put
  std::size_t url_index_ = 0;
  std::vector<bool> url_down_ = std::vector<bool>(cfg_.urls.size(), false);
  std::string url_;  // of the request in flight, for messages

  BatchProgress progress_;
  std::span<const AlertPtr> batch_;
  std::vector<std::size_t> pending_;  // batch positions not yet settled, in order
  std::string body_;                  // their action and source lines, back to back
  std::vector<std::size_t> offsets_;  // where each one's lines start in body_ (plus the end)
};

}  // namespace

SinkBuilder parse_elasticsearch_sink(const ConfigReader& r) {
  EsConfig cfg = parse_es_config(r);
  return [cfg](SinkContext& ctx) -> std::unique_ptr<Sink> { return std::make_unique<EsSink>(cfg, ctx); };
}

}  // namespace saker
