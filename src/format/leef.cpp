#include "format/leef.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

#include "core/time.hpp"

namespace saker {
namespace {

using std::string_view;

constexpr string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr string_view kTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ";

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

// The Falco fields with a predefined LEEF key.
enum Slot : std::uint8_t { kCip, kCport, kL4proto, kLip, kLport, kRip, kRport, kSip, kSport, kUserName, kSlots };
constexpr std::pair<string_view, Slot> kSlotNames[] = {
    {"fd.cip", kCip}, {"fd.cport", kCport}, {"fd.l4proto", kL4proto}, {"fd.lip", kLip}, {"fd.lport", kLport},
    {"fd.rip", kRip}, {"fd.rport", kRport}, {"fd.sip", kSip}, {"fd.sport", kSport}, {"user.name", kUserName},
};
static_assert(std::size(kSlotNames) == kSlots);
static_assert(std::ranges::is_sorted(kSlotNames, {}, &std::pair<string_view, Slot>::first));

bool valid_ip(string_view s) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::copy(s.begin(), s.end(), buf);
  buf[s.size()] = '\0';
  unsigned char addr[16];
  return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

class Writer {
 public:
  Writer(const Alert& a, char delim, std::string& out) : a_(a), delim_(delim), out_(out) {}
  void run();

 private:
  // A header field: '|' ends a field and LEEF has no escape for it, so it (and any control character) becomes
  // U+FFFD.
  void header(string_view s) {
    for (char c : s) {
      if (c == '|' || is_control(static_cast<unsigned char>(c))) {
        out_.append(kReplacement);
      } else {
        out_.push_back(c);
      }
    }
  }
  // An attribute value, which ends at the delimiter or the line's end: CR, LF and TAB are written as the text
  // \r, \n and \t, the delimiter and other control characters as U+FFFD. '=' and '\' need nothing: QRadar splits
  // an attribute at its first '='.
  void text(string_view s) {
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (!is_control(c) && c != static_cast<unsigned char>(delim_)) continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      out_.append(c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : kReplacement);
    }
    out_.append(s.data() + run, s.size() - run);
  }
  void value(const Value& v) {
    if (v.kind == Value::Kind::String || v.kind == Value::Kind::Array || v.kind == Value::Kind::Object) {
      text(v.text);
    } else {
      v.append_json(out_);  // numbers and booleans
    }
  }
  void key(string_view k) {
    if (!first_) out_.push_back(delim_);
    first_ = false;
    out_.append(k).push_back('=');
  }
  void kv(string_view k, string_view s) { key(k), text(s); }
  void kv(string_view k, const Value& v) { key(k), value(v); }
  const Value* take(Slot s, bool ip, bool port) {
    const Value* v = slot_[s];
    if (!v) return nullptr;
    if (ip && !(v->kind == Value::Kind::String && valid_ip(v->text))) return nullptr;
    if (port && !(v->kind == Value::Kind::Int && v->i >= 0 && v->i <= 65535)) return nullptr;
    if (!ip && !port && (v->kind != Value::Kind::String || v->text.empty())) return nullptr;
    used_[s] = true;
    return v;
  }
  void rest();

  const Alert& a_;
  const char delim_;
  std::string& out_;
  bool first_ = true;
  std::array<const Value*, kSlots> slot_{};
  std::array<bool, kSlots> used_{};
};

void Writer::run() {
  for (const Field& f : a_.fields()) {
    if (a_.has_output_fields && f.top_level) continue;
    auto it = std::ranges::lower_bound(kSlotNames, f.name, {}, &std::pair<string_view, Slot>::first);
    if (it != std::end(kSlotNames) && it->first == f.name && !slot_[it->second]) slot_[it->second] = &f.value;
  }
  out_.append("LEEF:2.0|Falcosecurity|Falco|" SAKER_VERSION "|");
  header(a_.rule);
  fmt::format_to(std::back_inserter(out_), "|0x{:02X}|", static_cast<unsigned char>(delim_));
  // devTime in the format QRadar's own LEEF guide shows: 2024-05-07T18:54:19.341+0000.
  std::string t = format_rfc3339_ms(a_.time_ns);
  t.pop_back();
  kv("devTime", t.append("+0000"));
  kv("devTimeFormat", kTimeFormat);
  key("sev"), fmt::format_to(std::back_inserter(out_), "{}", leef_severity(a_.priority));
  if (!a_.source.empty()) kv("cat", a_.source);
  if (!a_.hostname.empty()) kv("dvchost", a_.hostname);
  if (const Value* v = take(kUserName, false, false)) kv("usrName", *v);
  // Network endpoints: client/server when Falco knows them, else local/remote.
  const bool cs = slot_[kCip] || slot_[kSip] || slot_[kCport] || slot_[kSport];
  if (const Value* v = take(cs ? kCip : kLip, true, false)) kv("src", *v);
  if (const Value* v = take(cs ? kCport : kLport, false, true)) kv("srcPort", *v);
  if (const Value* v = take(cs ? kSip : kRip, true, false)) kv("dst", *v);
  if (const Value* v = take(cs ? kSport : kRport, false, true)) kv("dstPort", *v);
  if (const Value* v = take(kL4proto, false, false)) kv("proto", *v);
  if (!a_.output.empty()) kv("msg", a_.output);
  kv("rule", a_.rule);
  kv("uuid", a_.uuid);
  if (!a_.tags.empty()) {
    key("tags");
    for (std::size_t i = 0; i < a_.tags.size(); ++i) {
      if (i) out_.push_back(',');
      text(a_.tags[i]);
    }
  }
  rest();
}

// Every other field under its own name, then the fields stages added: characters outside [A-Za-z0-9_.] become '_',
// and a name without a dot gets a "falco." prefix ("saker." for an added field) so it cannot pass for a predefined
// LEEF key. The first of equal keys wins.
void Writer::rest() {
  thread_local std::vector<std::pair<std::size_t, std::size_t>> keys;  // the keys written: offset, size in out_
  keys.clear();
  auto attribute = [&](const Field& f, string_view prefix) {
    if (f.value.is_null()) return;
    const std::size_t at = out_.size();
    out_.push_back(delim_);
    const std::size_t k = out_.size();
    if (f.name.find('.') == string_view::npos) out_.append(prefix);
    for (char c : f.name) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.';
      out_.push_back(ok ? c : '_');
    }
    const string_view name(out_.data() + k, out_.size() - k);
    if (std::ranges::any_of(keys, [&](auto p) { return string_view(out_.data() + p.first, p.second) == name; })) {
      out_.resize(at);
      return;
    }
    keys.emplace_back(k, name.size());
    out_.push_back('=');
    if (f.value.kind == Value::Kind::Array && f.value.added_list) {
      const auto items = a_.items(f.value);  // an added list of strings: comma-joined, like tags
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out_.push_back(',');
        text(items[i].text);
      }
    } else {
      value(f.value);
    }
  };
  for (const Field& f : a_.fields()) {
    auto it = std::ranges::lower_bound(kSlotNames, f.name, {}, &std::pair<string_view, Slot>::first);
    if (it != std::end(kSlotNames) && it->first == f.name && slot_[it->second] == &f.value && used_[it->second]) {
      continue;
    }
    attribute(f, "falco.");
  }
  if (a_.has_additions()) {
    for (const Field& f : a_.added()) attribute(f, "saker.");
  }
}

}  // namespace

LeefFormatter::LeefFormatter(char delimiter) : delim_(delimiter == '^' ? '^' : '\t') {}

int leef_severity(Priority p) noexcept {
  switch (p) {
    case Priority::Debug: return 1;
    case Priority::Informational: return 2;
    case Priority::Notice: return 3;
    case Priority::Warning: return 5;
    case Priority::Error: return 7;
    case Priority::Critical: return 8;
    case Priority::Alert: return 9;
    case Priority::Emergency: return 10;
  }
  return 5;
}

void LeefFormatter::format(const Alert& alert, std::string& out) const { Writer(alert, delim_, out).run(); }

}  // namespace saker
