#include "sinks/syslog/rfc5424.hpp"

#include <fmt/format.h>

#include "core/time.hpp"
#include "sinks/syslog/message.hpp"

namespace saker {
namespace {

void append_param(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(' ');
  out.append(name);
  out.append("=\"");
  append_sd_value(out, value);
  out.push_back('"');
}

// Appends one added field as a PARAM: strings as they are, lists of strings comma-joined, numbers and booleans in
// decimal, other lists and objects as their JSON text.
void append_added_param(std::string& out, const Alert& a, const Field& f) {
  out.push_back(' ');
  append_sd_name(out, f.name);
  out.append("=\"");
  const Value& v = f.value;
  if (v.kind == Value::Kind::Array && v.added_list) {
    const auto items = a.items(v);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_sd_value(out, items[i].text);
    }
  } else if (v.kind == Value::Kind::String || v.kind == Value::Kind::Array || v.kind == Value::Kind::Object) {
    append_sd_value(out, v.text);
  } else {
    v.append_json(out);  // numbers and booleans: nothing to escape
  }
  out.push_back('"');
}

}  // namespace

void append_sd_name(std::string& out, std::string_view name) {
  if (name.empty()) {
    out.push_back('_');
    return;
  }
  for (unsigned char c : name.substr(0, kSdNameMax)) {
    const bool ok = c >= 33 && c <= 126 && c != '=' && c != ']' && c != '"';
    out.push_back(ok ? static_cast<char>(c) : '_');
  }
}

void append_rfc5424_timestamp(std::string& out, std::int64_t ns) {
  std::string t = format_rfc3339_ns(ns);  // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"
  t.erase(26, 3);  // RFC 5424 allows at most 6 fraction digits; int64 ns always has a 4-digit year
  out.append(t);
}

void append_sd_value(std::string& out, std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || c == ']') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7F) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
}

void format_rfc5424(const Alert& a, const SyslogMessageOptions& o, const Formatter& formatter, std::string& out) {
  fmt::format_to(std::back_inserter(out), "<{}>1 ", syslog_pri(o.facility, a.priority));
  append_rfc5424_timestamp(out, a.time_ns);
  out.push_back(' ');
  append_header_field(out, header_hostname(a, o), kSyslogHostnameMax);
  out.push_back(' ');
  append_header_field(out, o.app_name, kSyslogAppNameMax);
  out.append(" - ");  // PROCID: saker relays; the alerting process is in the record itself
  switch (o.msg_id) {
    case SyslogMsgId::None:
      out.push_back('-');
      break;
    case SyslogMsgId::Rule:
      append_header_field(out, a.rule, kSyslogMsgIdMax);
      break;
    case SyslogMsgId::Fixed:
      append_header_field(out, o.msg_id_text, kSyslogMsgIdMax);
      break;
  }
  out.push_back(' ');
  if (o.sd_id.empty()) {
    out.push_back('-');
  } else {
    out.push_back('[');
    out.append(o.sd_id);
    append_param(out, "rule", a.rule);
    append_param(out, "priority", to_string(a.priority));
    if (!a.source.empty()) append_param(out, "source", a.source);
    append_param(out, "uuid", a.uuid);
    if (!a.tags.empty()) {
      out.append(" tags=\"");
      for (std::size_t i = 0; i < a.tags.size(); ++i) {
        if (i > 0) out.push_back(',');
        append_sd_value(out, a.tags[i]);
      }
      out.push_back('"');
    }
    if (a.has_additions()) {
      // What stages added: an element of its own, saker@ with the configured enterprise number (falco@32473 ->
      // saker@32473), so a receiver tells it from what Falco sent; this one when it is saker's (SD-IDs are unique).
      const std::string_view sd_id = o.sd_id;
      const std::size_t at = sd_id.find('@');
      const bool own = sd_id.substr(0, at) != "saker";
      if (own) out.append("] [saker").append(at == std::string_view::npos ? "@32473" : sd_id.substr(at));
      for (const Field& f : a.added()) {
        if (!f.value.is_null()) append_added_param(out, a, f);
      }
      if (own && !a.added_tags().empty()) {
        out.append(" tags=\"");
        for (std::size_t i = 0; i < a.added_tags().size(); ++i) {
          if (i > 0) out.push_back(',');
          append_sd_value(out, a.added_tags()[i]);
        }
        out.push_back('"');
      }
    }
    out.push_back(']');
  }
  out.push_back(' ');
  if (o.bom) out.append("\xEF\xBB\xBF");
  formatter.format(a, out);
}

}  // namespace saker
