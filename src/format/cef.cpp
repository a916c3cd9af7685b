#include "format/cef.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace saker {
namespace {

using std::string_view;

constexpr string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

// Appends s, writing esc(c) for each byte c that needs it (esc returns "" for bytes kept as they are).
template <typename Esc>
void append_escaped(std::string& out, string_view s, Esc esc) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const string_view e = esc(static_cast<unsigned char>(s[i]));
    if (e.empty()) continue;
    out.append(s.data() + run, i - run).append(e);
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

// The Falco fields with a CEF key of their own.
enum Slot : std::uint8_t {
  kCId, kCip, kCport, kFilename, kL4proto, kLip, kLport, kFdName, kRip, kRport, kSip, kSport, kFdType, kNs, kPodName,
  kCmdline, kName, kPid, kUserName, kUid, kSlots
};
constexpr std::pair<string_view, Slot> kSlotNames[] = {
    {"container.id", kCId}, {"fd.cip", kCip}, {"fd.cport", kCport}, {"fd.filename", kFilename},
    {"fd.l4proto", kL4proto}, {"fd.lip", kLip}, {"fd.lport", kLport}, {"fd.name", kFdName}, {"fd.rip", kRip},
    {"fd.rport", kRport}, {"fd.sip", kSip}, {"fd.sport", kSport}, {"fd.type", kFdType}, {"k8s.ns.name", kNs},
    {"k8s.pod.name", kPodName}, {"proc.cmdline", kCmdline}, {"proc.name", kName}, {"proc.pid", kPid},
    {"user.name", kUserName}, {"user.uid", kUid},
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
  Writer(const Alert& a, std::string& out) : a_(a), out_(out) {}
  void run();

 private:
  // ` key=` then the escaped text of v; null values are left out.
  void kv(string_view key, const Value& v) {
    if (v.is_null()) return;
    out_.push_back(' ');
    out_.append(key).push_back('=');
    value(v);
  }
  void value(const Value& v) {
    if (v.kind == Value::Kind::String || v.kind == Value::Kind::Array || v.kind == Value::Kind::Object) {
      append_cef_value(out_, v.text);
    } else {
      v.append_json(out_);  // numbers and booleans: no character needs escaping
    }
  }
  void kv(string_view key, string_view text) { kv(key, Value::string(text)); }
  // The field in a slot if it is a non-empty string (or any value when `any`); marks it mapped.
  const Value* take(Slot s, bool any = false) {
    const Value* v = slot_[s];
    if (!v || v->is_null() || (!any && (v->kind != Value::Kind::String || v->text.empty()))) return nullptr;
    used_[s] = true;
    return v;
  }
  const Value* port(Slot s) {
    const Value* v = slot_[s];
    if (!v || v->kind != Value::Kind::Int || v->i < 0 || v->i > 65535) return nullptr;
    used_[s] = true;
    return v;
  }
  const Value* ip(Slot s) {
    const Value* v = slot_[s];
    return v && v->kind == Value::Kind::String && valid_ip(v->text) ? take(s) : nullptr;
  }
  // The keys a pass wrote: offset and size in out_.
  using KeysWritten = std::vector<std::pair<std::size_t, std::size_t>>;
  // The key just written at out_[key..] (its extension starting at `at`) is new: remember it. Else take the
  // extension back (the first of equal keys wins) and say so.
  bool new_key(KeysWritten& keys, std::size_t at, std::size_t key) {
    const string_view k(out_.data() + key, out_.size() - key);
    if (std::ranges::any_of(keys, [&](auto p) { return string_view(out_.data() + p.first, p.second) == k; })) {
      out_.resize(at);
      return false;
    }
    keys.emplace_back(key, k.size());
    return true;
  }
  void rest();
  void added();
  void list_or_value(const Value& v);

  const Alert& a_;
  std::string& out_;
  std::array<const Value*, kSlots> slot_{};
  std::array<bool, kSlots> used_{};
};

void Writer::run() {
  for (const Field& f : a_.fields()) {
    if (a_.has_output_fields && f.top_level) continue;
    auto it = std::ranges::lower_bound(kSlotNames, f.name, {}, &std::pair<string_view, Slot>::first);
    if (it != std::end(kSlotNames) && it->first == f.name && !slot_[it->second]) slot_[it->second] = &f.value;
  }
  out_.append("CEF:0|Falcosecurity|Falco|" SAKER_VERSION "|");
  append_cef_header(out_, a_.rule);
  out_.push_back('|');
  append_cef_header(out_, a_.rule);
  fmt::format_to(std::back_inserter(out_), "|{}|rt={}", cef_severity(a_.priority), a_.time_ns / 1000000);
  if (!a_.hostname.empty()) kv("dvchost", a_.hostname), kv("dhost", a_.hostname);
  kv("externalId", a_.uuid);
  if (!a_.source.empty()) kv("cat", a_.source);
  if (!a_.output.empty()) kv("msg", a_.output);
  if (const Value* v = take(kUserName)) kv("suser", *v);
  if (const Value* v = take(kUid, true)) kv("suid", *v);
  if (const Value* v = take(kName)) kv("sproc", *v);
  if (const Value* v = take(kPid, true)) kv("spid", *v);
  // A file descriptor that is a file: filePath and fname.
  const Value* type = slot_[kFdType];
  const Value* fd = slot_[kFdName];
  if (fd && fd->kind == Value::Kind::String &&
      (type && type->kind == Value::Kind::String ? type->text == "file" || type->text == "directory"
                                                 : fd->text.starts_with('/'))) {
    take(kFdName);
    kv("filePath", *fd);
    const Value* base = take(kFilename);
    kv("fname", base ? base->text : fd->text.substr(fd->text.rfind('/') + 1));
  }
  // Network endpoints: client/server when Falco knows them, else local/remote.
  const bool cs = slot_[kCip] || slot_[kSip] || slot_[kCport] || slot_[kSport];
  if (const Value* v = ip(cs ? kCip : kLip)) kv("src", *v);
  if (const Value* v = port(cs ? kCport : kLport)) kv("spt", *v);
  if (const Value* v = ip(cs ? kSip : kRip)) kv("dst", *v);
  if (const Value* v = port(cs ? kSport : kRport)) kv("dpt", *v);
  if (const Value* v = take(kL4proto)) kv("proto", *v);
  kv("cs1Label", "rule"), kv("cs1", a_.rule);
  if (!a_.tags.empty()) {
    out_.append(" cs2Label=tags cs2=");
    for (std::size_t i = 0; i < a_.tags.size(); ++i) {
      if (i) out_.push_back(',');
      append_cef_value(out_, a_.tags[i]);
    }
  }
  static constexpr std::array<std::array<string_view, 3>, 4> kCustom = {{
      {"cs3", "cs3Label", "containerId"}, {"cs4", "cs4Label", "k8sNamespace"},
      {"cs5", "cs5Label", "k8sPod"}, {"cs6", "cs6Label", "cmdline"}}};
  const Slot custom[] = {kCId, kNs, kPodName, kCmdline};
  for (std::size_t i = 0; i < 4; ++i) {
    if (const Value* v = take(custom[i])) kv(kCustom[i][1], kCustom[i][2]), kv(kCustom[i][0], *v);
  }
  rest();
  if (a_.has_additions()) added();
}

void Writer::list_or_value(const Value& v) {
  if (v.kind != Value::Kind::Array || !v.added_list) return value(v);
  const auto items = a_.items(v);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out_.push_back(',');
    append_cef_value(out_, items[i].text);
  }
}

// Fields stages added, after Falco's, under custom keys as the CEF guide asks for them: one alphanumeric word,
// "saker" then the name's alphanumeric runs, each capitalized (threat.technique.id -> sakerThreatTechniqueId). No
// dictionary key and no Falco field's key (those keep a '.') has that form. The first of equal keys wins.
void Writer::added() {
  thread_local KeysWritten keys;
  keys.clear();
  for (const Field& f : a_.added()) {
    if (f.value.is_null()) continue;
    const std::size_t at = out_.size();
    out_.push_back(' ');
    const std::size_t key = out_.size();
    out_.append("saker");
    bool word_start = true;
    for (char c : f.name) {
      const bool lower = c >= 'a' && c <= 'z';
      if (!lower && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9')) {
        word_start = true;
        continue;
      }
      out_.push_back(word_start && lower ? static_cast<char>(c - 'a' + 'A') : c);
      word_start = false;
    }
    if (!new_key(keys, at, key)) continue;
    out_.push_back('=');
    list_or_value(f.value);
  }
}

// Every other field under its own name: characters outside [A-Za-z0-9_.] become '_', and a name without a dot
// gets a "falco." prefix so it cannot pass for a CEF dictionary key. The first of equal keys wins.
void Writer::rest() {
  thread_local KeysWritten keys;
  keys.clear();
  for (const Field& f : a_.fields()) {
    auto it = std::ranges::lower_bound(kSlotNames, f.name, {}, &std::pair<string_view, Slot>::first);
    if (it != std::end(kSlotNames) && it->first == f.name && slot_[it->second] == &f.value && used_[it->second]) {
      continue;
    }
    if (f.value.is_null()) continue;
    const std::size_t at = out_.size();
    out_.push_back(' ');
    const std::size_t key = out_.size();
    if (f.name.find('.') == string_view::npos) out_.append("falco.");
    for (char c : f.name) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.';
      out_.push_back(ok ? c : '_');
    }
    if (!new_key(keys, at, key)) continue;
    out_.push_back('=');
    value(f.value);
  }
}

}  // namespace

int cef_severity(Priority p) noexcept {
  switch (p) {
    case Priority::Debug: return 0;
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

void append_cef_header(std::string& out, string_view s) {
  append_escaped(out, s, [](unsigned char c) -> string_view {
    if (c == '\\') return "\\\\";
    if (c == '|') return "\\|";
    if (c != '\t' && is_control(c)) return kReplacement;
    return {};
  });
}

void append_cef_value(std::string& out, string_view s) {
  append_escaped(out, s, [](unsigned char c) -> string_view {
    switch (c) {
      case '\\': return "\\\\";
      case '=': return "\\=";
      case '\n': return "\\n";
      case '\r': return "\\r";
      default: return c != '\t' && is_control(c) ? kReplacement : string_view();
    }
  });
}

void CefFormatter::format(const Alert& alert, std::string& out) const { Writer(alert, out).run(); }

}  // namespace saker
