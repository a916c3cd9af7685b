#include "sinks/splunk_hec.hpp"

#include <simdjson.h>

#include <random>

#include <fmt/format.h>

#include "core/json_text.hpp"
#include "sinks/http_client.hpp"

namespace saker {
namespace {

struct HecConfig {
  std::string url;
  std::string token;
  HecEventFields fields;
  std::uint64_t max_bytes = 1024 * 1024;
  HttpClientOptions http;
};

// A random channel id: HEC requires one when the token has indexer acknowledgement on, and ignores it otherwise.
std::string random_channel() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  const std::uint64_t a = gen(), b = gen();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFF,
                     0x8000 | ((b >> 48) & 0x3FFF), b & 0xFFFFFFFFFFFFULL);
}

class HecSink final : public Sink {
 public:
  HecSink(HecConfig cfg, SinkContext& ctx)
      : cfg_(std::move(cfg)),
        ctx_(ctx),
        client_(cfg_.http, ctx.name, ctx.metrics),
        extra_{{"X-Splunk-Request-Channel", random_channel()}},
        dead_("splunk_hec", ctx.metrics.counter("saker_hec_rejected_total", "Events Splunk HEC refused for good (HTTP 400)",
                                  {{"sink", ctx.name}})) {}

  Result<bool> write(std::span<const AlertPtr> batch) override {
    progress_.begin(batch);
    batch_ = batch;
    pending_ = progress_.pending();
    body_.clear();
    offsets_.assign(1, 0);
    for (const std::size_t i : pending_) {
      scratch_.clear();
      ctx_.formatter->format(*batch[i], scratch_);
      append_hec_event(*batch[i], cfg_.fields, scratch_, body_);
      offsets_.push_back(body_.size());
    }
    dead_.begin();
    auto r = send_ranges(split_by_bytes(offsets_, cfg_.max_bytes), [this](Range rg) { return send(rg); },
                         [this](std::size_t pos) { reject({pos, pos + 1}, "HTTP 413: the event alone is too large"); });
    dead_.log(ctx_);
    if (r) progress_.clear();
    return r;
  }

 private:
  RangeOutcome send(Range rg) {
    const std::string_view body(body_.data() + offsets_[rg.begin], offsets_[rg.end] - offsets_[rg.begin]);
    auto resp = client_.send("POST", cfg_.url, body, "application/json", extra_);
    if (!resp) return RangeOutcome{RangeOutcome::retry, resp.error(), std::nullopt};
    const long status = resp->status;
    const HecAnswer answer = parse_hec_answer(resp->body);
    if (status >= 200 && status < 300) {
      for (std::size_t k = rg.begin; k < rg.end; ++k) progress_.settle(pending_[k]);
      return RangeOutcome{};
    }
    if (status == 413) return RangeOutcome{RangeOutcome::too_large, {}, std::nullopt};
    const std::string what = answer.code >= 0 ? fmt::format("HTTP {}: {} (code {})", status, answer.text, answer.code)
                                              : http_status_summary(resp.value());
    if (status == 400) {
      // Code 6 names the first bad event: HEC took the ones before it, so resend only those after it.
      if (answer.code == 6 && answer.invalid_event && *answer.invalid_event < rg.size()) {
        const std::size_t bad = rg.begin + *answer.invalid_event;
        for (std::size_t k = rg.begin; k < bad; ++k) progress_.settle(pending_[k]);
        reject({bad, bad + 1}, what);
        if (bad + 1 < rg.end) return RangeOutcome{RangeOutcome::done, {}, Range{bad + 1, rg.end}};
        return RangeOutcome{};
      }
      reject(rg, what);
      return RangeOutcome{};
    }
    const char* hint = status == 401 || status == 403 ? "; check `token`"
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

  HecConfig cfg_;
  SinkContext ctx_;
  HttpClient client_;
  HttpHeaders extra_;
  DeadLetterGroup dead_;
  BatchProgress progress_;
  std::span<const AlertPtr> batch_;
  std::vector<std::size_t> pending_;
  std::string body_;
  std::string scratch_;
  std::vector<std::size_t> offsets_;
};

}  // namespace

void append_hec_event(const Alert& alert, const HecEventFields& f, std::string_view formatted, std::string& out) {
  const std::int64_t ms = alert.time_ns / 1000000 - (alert.time_ns % 1000000 < 0 ? 1 : 0);
  const std::int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  fmt::format_to(std::back_inserter(out), "{{\"time\":{}.{:03}", secs, ms - secs * 1000);
  const std::string_view host = f.host.empty() ? alert.hostname : std::string_view(f.host);
  if (!host.empty()) {
    out.append(",\"host\":");
    append_json_string(out, host);
  }
  out.append(",\"source\":");
  append_json_string(out, f.source);
  out.append(",\"sourcetype\":");
  append_json_string(out, f.sourcetype);
  if (!f.index.empty()) {
    out.append(",\"index\":");
    append_json_string(out, f.index);
  }
  out.append(",\"event\":");
  if (!formatted.empty() && formatted.front() == '{') {
    out.append(formatted);
  } else {
    append_json_string(out, formatted);
  }
  out.push_back('}');
}

HecAnswer parse_hec_answer(std::string_view body) {
  HecAnswer a;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) return a;
  std::int64_t code = 0;
  if (doc["code"].get(code) != simdjson::SUCCESS) return a;
  a.code = static_cast<int>(code);
  std::string_view text;
  if (doc["text"].get(text) == simdjson::SUCCESS) a.text = std::string(text);
  std::int64_t n = 0;
  if (doc["invalid-event-number"].get(n) == simdjson::SUCCESS && n >= 0) a.invalid_event = static_cast<std::size_t>(n);
  return a;
}

SinkBuilder parse_splunk_hec_sink(const ConfigReader& r) {
  r.only({"url", "token", "source", "sourcetype", "index", "host", "max_bytes"}, http_sink_keys());
  HecConfig cfg;
  cfg.http = parse_http_client_options(r);
  if (r.has("auth")) r.errors.add(r.node["auth"], r.key_name("auth"), "splunk_hec authenticates with `token`");
  std::string base = check_http_url(r, r.node["url"], r.string("url", "", true), cfg.http.tls);
  if (std::string_view(base).ends_with("/services/collector")) base += "/event";  // the older alias of /event
  cfg.url = url_with_path(base, "/services/collector/event", "/services/collector/event/1.0");
  cfg.token = r.string("token", "", true);
  r.errors.add_secret(cfg.token);
  cfg.http.authorization = "Splunk " + cfg.token;
  cfg.fields.source = r.string("source", cfg.fields.source);
  cfg.fields.sourcetype = r.string("sourcetype", cfg.fields.sourcetype);
  cfg.fields.index = r.string("index");
  cfg.fields.host = r.string("host");
  cfg.max_bytes = r.size("max_bytes", cfg.max_bytes);
  return [cfg](SinkContext& ctx) -> std::unique_ptr<Sink> { return std::make_unique<HecSink>(cfg, ctx); };
}

}  // namespace saker
