#include "enrich/feeds/misp_feed.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include "enrich/feeds/json_feed.hpp"

namespace saker {

namespace dom = simdjson::dom;

namespace {

class MispReader {
 public:
  MispReader(const FeedInput& in, ThreatIntelIndex::Builder& b) : in_(in), b_(b), tally_{stats_, in} {}

  Result<FeedStats> read(dom::element root) {
    dom::object obj;
    dom::array list;
    if (!root.get(list)) {
      if (!events(list, "$")) return error_;
    } else if (root.get(obj)) {
      fail("$", "not a MISP export: an object {\"Event\": ...}, a list of them or {\"response\": [...]}");
      return error_;
    } else if (dom::array resp; !obj["response"].get(resp)) {
      if (!events(resp, "$.response")) return error_;
    } else if (dom::element ev; obj["Event"].get(ev)) {
      fail("$", "not a MISP export: an object {\"Event\": ...}, a list of them or {\"response\": [...]}");
      return error_;
    } else if (!event_of(obj, "$")) {
      return error_;
    }
    return stats_;
  }

 private:
  bool fail(std::string path, std::string_view what) {
    error_ = make_error("feed_bad_json", fmt::format("{}: {}: {}", in_.file, path, what));
    return false;
  }

  bool events(dom::array list, const std::string& path) {
    std::size_t i = 0;
    for (dom::element el : list) {
      const std::string at = fmt::format("{}[{}]", path, i++);
      dom::object obj;
      if (el.get(obj)) return fail(at, "must be an object {\"Event\": ...}");
      if (!event_of(obj, at)) return false;
    }
    return true;
  }

  // {"Event": {...}}, or the event itself (as some exports list them).
  bool event_of(dom::object obj, const std::string& path) {
    dom::element ev;
    if (obj["Event"].get(ev)) return event(obj, path);
    dom::object event_obj;
    if (ev.get(event_obj)) return fail(path + ".Event", "must be an object");
    return event(event_obj, path + ".Event");
  }

  bool event(dom::object ev, const std::string& path) {
    if (!attributes(ev, path)) return false;
    dom::element objects;
    if (ev["Object"].get(objects)) return true;
    dom::array list;
    if (objects.get(list)) return fail(path + ".Object", "must be a list");
    std::size_t i = 0;
    for (dom::element o : list) {
      const std::string at = fmt::format("{}.Object[{}]", path, i++);
      dom::object obj;
      if (o.get(obj)) return fail(at, "must be an object");
      if (!attributes(obj, at)) return false;
    }
    return true;
  }

  bool attributes(dom::object holder, const std::string& path) {
    dom::element attrs;
    if (holder["Attribute"].get(attrs)) return true;
    dom::array list;
    if (attrs.get(list)) return fail(path + ".Attribute", "must be a list");
    std::size_t i = 0;
    for (dom::element a : list) {
      const std::size_t at = i++;
      dom::object attr;
      if (a.get(attr)) return fail(fmt::format("{}.Attribute[{}]", path, at), "must be an object");
      std::string_view type, value;
      if (attr["type"].get(type)) return fail(fmt::format("{}.Attribute[{}].type", path, at), "missing or not a string");
      if (attr["value"].get(value)) return fail(fmt::format("{}.Attribute[{}].value", path, at), "missing or not a string");
      if (flag(attr, "deleted")) {
        ++stats_.revoked;
        continue;
      }
      if (!flag(attr, "to_ids")) {
        ++stats_.not_ids;
        continue;
      }
      attribute(type, value);
      if (tally_.over_limit()) {
        error_ = tally_.limit_error(fmt::format("{}: {}.Attribute[{}]", in_.file, path, at));
        return false;
      }
    }
    return true;
  }

  // true, "1" or "true" (MISP exports both booleans and strings); absent is false.
  static bool flag(dom::object attr, const char* key) {
    dom::element v;
    if (attr[key].get(v)) return false;
    bool b = false;
    if (!v.get(b)) return b;
    std::string_view s;
    if (!v.get(s)) return s == "1" || s == "true";
    std::int64_t n = 0;
    return !v.get(n) && n != 0;
  }

  void add(ValueKind kind, std::string_view value) {
    if (!tally_.take(b_.add(kind, value, in_.feed))) ++stats_.invalid;
  }

  void attribute(std::string_view type, std::string_view value) {
    const auto bar = value.find('|');
    const std::string_view first = value.substr(0, bar);
    const std::string_view second = bar == std::string_view::npos ? std::string_view() : value.substr(bar + 1);
    if (type == "ip-src" || type == "ip-dst") return add(ValueKind::Ip, value);
    if (type == "ip-src|port" || type == "ip-dst|port") return add(ValueKind::Ip, first);
    if (type == "domain" || type == "hostname") return add(ValueKind::Domain, value);
    if (type == "domain|ip") {
      add(ValueKind::Domain, first);
      return add(ValueKind::Ip, second);
    }
    if (type == "url") return add(ValueKind::Url, value);
    if (type == "md5") return add(ValueKind::Md5, value);
    if (type == "sha1") return add(ValueKind::Sha1, value);
    if (type == "sha256") return add(ValueKind::Sha256, value);
    if (type == "filename|md5") return add(ValueKind::Md5, second);
    if (type == "filename|sha1") return add(ValueKind::Sha1, second);
    if (type == "filename|sha256") return add(ValueKind::Sha256, second);
    ++stats_.unsupported;
  }

  const FeedInput& in_;
  ThreatIntelIndex::Builder& b_;
  FeedStats stats_;
  feed_detail::Tally tally_;
  Error error_;
};

}  // namespace

Result<FeedStats> parse_misp_feed(const FeedInput& in, ThreatIntelIndex::Builder& b) {
  dom::parser parser;
  dom::element root;
  if (auto e = feed_detail::parse_json(parser, in, root); !e.message.empty()) return e;
  return MispReader(in, b).read(root);
}

}  // namespace saker
