#include "format/ocsf.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <utility>
#include <vector>

#include "core/json_text.hpp"
#include "core/stage_origin.hpp"
#include "format/indicators.hpp"

namespace saker {
namespace {

using std::string_view;

// The Falco fields the mapping reads; one pass over the alert fills a slot per name (first occurrence wins).
enum Slot : std::uint8_t {
  kCId, kCFullId, kCImage, kCImageId, kCImageRepo, kCImageTag, kCName, kCType, kCip, kCipName, kCport, kDirectory,
  kL4proto, kFilename, kIno, kLip, kLipName, kLport, kFdName, kRip, kRipName, kRport, kSip, kSipName, kSport,
  kFdType, kKaTargetName, kKaTargetNs, kKaTargetResource, kKaUser, kKaVerb, kNs, kPodLabels, kPodName, kPodUid,
  kCmdline, kCwd, kExepath, kName, kPcmdline, kPexepath, kPid, kPname, kPpid, kTid, kUserName, kUid, kSlots
};

constexpr std::pair<string_view, Slot> kSlotNames[] = {
    {"container.full_id", kCFullId}, {"container.id", kCId}, {"container.image", kCImage},
    {"container.image.id", kCImageId}, {"container.image.repository", kCImageRepo},
    {"container.image.tag", kCImageTag}, {"container.name", kCName}, {"container.type", kCType}, {"fd.cip", kCip},
    {"fd.cip.name", kCipName}, {"fd.cport", kCport}, {"fd.directory", kDirectory}, {"fd.filename", kFilename},
    {"fd.ino", kIno}, {"fd.l4proto", kL4proto}, {"fd.lip", kLip}, {"fd.lip.name", kLipName}, {"fd.lport", kLport},
    {"fd.name", kFdName}, {"fd.rip", kRip}, {"fd.rip.name", kRipName}, {"fd.rport", kRport}, {"fd.sip", kSip},
    {"fd.sip.name", kSipName}, {"fd.sport", kSport}, {"fd.type", kFdType}, {"k8s.ns.name", kNs},
    {"k8s.pod.labels", kPodLabels}, {"k8s.pod.name", kPodName}, {"k8s.pod.uid", kPodUid},
    {"ka.target.name", kKaTargetName}, {"ka.target.namespace", kKaTargetNs},
    {"ka.target.resource", kKaTargetResource}, {"ka.user.name", kKaUser}, {"ka.verb", kKaVerb},
    {"proc.cmdline", kCmdline}, {"proc.cwd", kCwd}, {"proc.exepath", kExepath}, {"proc.name", kName},
    {"proc.pcmdline", kPcmdline}, {"proc.pexepath", kPexepath}, {"proc.pid", kPid}, {"proc.pname", kPname},
    {"proc.ppid", kPpid}, {"thread.tid", kTid}, {"user.name", kUserName}, {"user.uid", kUid},
};
static_assert(std::size(kSlotNames) == kSlots);
static_assert(std::ranges::is_sorted(kSlotNames, {}, &std::pair<string_view, Slot>::first));

// Falco priority -> OCSF severity_id and its caption, as they are written.
string_view severity(Priority p) {
  switch (p) {
    case Priority::Debug:
    case Priority::Informational: return R"("severity_id":1,"severity":"Informational")";
    case Priority::Notice: return R"("severity_id":2,"severity":"Low")";
    case Priority::Warning: return R"("severity_id":3,"severity":"Medium")";
    case Priority::Error: return R"("severity_id":4,"severity":"High")";
    case Priority::Critical:
    case Priority::Alert: return R"("severity_id":5,"severity":"Critical")";
    case Priority::Emergency: return R"("severity_id":6,"severity":"Fatal")";
  }
  return R"("severity_id":0,"severity":"Unknown")";
}

// Falco's mitre_* tags -> ATT&CK enterprise tactics.
constexpr std::array<std::array<string_view, 3>, 14> kTactics = {{
    {"mitre_collection", "TA0009", "Collection"},
    {"mitre_command_and_control", "TA0011", "Command and Control"},
    {"mitre_credential_access", "TA0006", "Credential Access"},
    {"mitre_defense_evasion", "TA0005", "Defense Evasion"},
    {"mitre_discovery", "TA0007", "Discovery"},
    {"mitre_execution", "TA0002", "Execution"},
    {"mitre_exfiltration", "TA0010", "Exfiltration"},
    {"mitre_impact", "TA0040", "Impact"},
    {"mitre_initial_access", "TA0001", "Initial Access"},
    {"mitre_lateral_movement", "TA0008", "Lateral Movement"},
    {"mitre_persistence", "TA0003", "Persistence"},
    {"mitre_privilege_escalation", "TA0004", "Privilege Escalation"},
    {"mitre_reconnaissance", "TA0043", "Reconnaissance"},
    {"mitre_resource_development", "TA0042", "Resource Development"},
}};

bool digits(string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}
// "T1059" or "T1059.004".
bool technique_tag(string_view t) {
  return t.size() >= 5 && t[0] == 'T' && digits(t.substr(1, 4)) &&
         (t.size() == 5 || (t.size() == 9 && t[5] == '.' && digits(t.substr(6))));
}

bool valid_ip(string_view s) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::copy(s.begin(), s.end(), buf);
  buf[s.size()] = '\0';
  unsigned char addr[16];
  return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

// A key or text fixed in this file that JSON needs no escaping for: written as it is, without a scan. consteval:
// only a literal can be one, and one that would need escaping does not compile.
struct Lit {
  string_view s;
  template <std::size_t N>
  consteval Lit(const char (&text)[N]) : s(text, N - 1) {  // implicit: call sites pass the literal itself
    for (char ch : s) {
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) throw "this literal needs escaping";
    }
  }
};

// Streaming JSON with automatic commas: a comma goes before any key or element that follows a value. Keys and
// texts fixed in this file are written as they are (Lit, raw); what comes from the alert is escaped.
struct Json {
  std::string& o;
  bool c = false;
  void sep() {
    if (c) o.push_back(',');
    c = false;
  }
  // JSON text fixed in this file, written as it is, without a comma of its own; `value`: it ends in a value.
  void raw(string_view json, bool value) {
    o.append(json);
    c = value;
  }
  Json& k(Lit key) {
    sep();
    o.push_back('"');
    o.append(key.s);
    o.append("\":", 2);
    return *this;
  }
  // A key from the alert (a field's name): escaped.
  Json& kx(string_view key) {
    sep();
    append_json_string(o, key);
    o.push_back(':');
    return *this;
  }
  Json& beg(char ch) {
    sep();
    o.push_back(ch);
    return *this;
  }
  void end(char ch) {
    o.push_back(ch);
    c = true;
  }
  void str(string_view s) {
    sep();
    append_json_string(o, s);
    c = true;
  }
  void lit(Lit s) {
    sep();
    o.push_back('"');
    o.append(s.s);
    o.push_back('"');
    c = true;
  }
  void num(std::int64_t n) {
    sep();
    char b[24];
    o.append(b, std::to_chars(b, b + sizeof b, n).ptr);
    c = true;
  }
  // As Value::append_json writes it; integers without a trip through fmt.
  void val(const Value& v) {
    sep();
    char b[24];
    switch (v.kind) {
      case Value::Kind::Int: o.append(b, std::to_chars(b, b + sizeof b, v.i).ptr); break;
      case Value::Kind::Uint: o.append(b, std::to_chars(b, b + sizeof b, v.u).ptr); break;
      case Value::Kind::String: append_json_string(o, v.text); break;
      default: v.append_json(o);
    }
    c = true;
  }
};

class Writer {
 public:
  Writer(const Alert& a, std::string& out) : a_(a), j_{out} {}
  void run();

 private:
  // The field in a slot, if it holds a non-empty string; marks it mapped.
  const Value* str(Slot s) {
    const Value* v = slot_[s];
    if (!v || v->kind != Value::Kind::String || v->text.empty()) return nullptr;
    used_[s] = true;
    return v;
  }
  // The field in a slot, if it is an integer in [lo, hi]; marks it mapped.
  const Value* integer(Slot s, std::int64_t lo, std::int64_t hi) {
    const Value* v = slot_[s];
    if (!v || v->kind != Value::Kind::Int || v->i < lo || v->i > hi) return nullptr;
    used_[s] = true;
    return v;
  }
  // A string, or an integer as text (uids, inodes); marks it mapped.
  bool text(Slot s, string_view& out, char (&buf)[24]) {
    if (const Value* v = str(s)) {
      out = v->text;
      return true;
    }
    if (const Value* v = integer(s, INT64_MIN, INT64_MAX)) {
      out = string_view(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v->i).ptr - buf));
      return true;
    }
    return false;
  }
  void kv(Lit key, const Value* v) {
    if (v) j_.k(key).val(*v);
  }
  // `head`: the observable up to its value, e.g. {"name":"device.hostname","type_id":1,"type":"Hostname","value":
  void observable(string_view head, string_view value) { observables_[n_obs_++] = {head, value}; }
  bool process();
  bool container();
  bool file();
  bool endpoint(Lit key, Slot ip, Slot port, Slot host, string_view obs_head);
  void evidences();
  void resources();
  void attacks();
  void enrichments();
  void unmapped();

  struct Obs {
    string_view head, value;
  };
  const Alert& a_;
  Json j_;
  std::array<const Value*, kSlots> slot_{};
  std::array<std::uint32_t, kSlots> slot_field_{};  // the index in fields() of the field in each slot
  std::array<bool, kSlots> used_{};
  std::array<Obs, 16> observables_{};
  std::size_t n_obs_ = 0;
  char uid_[24] = {}, pid_[24] = {}, ino_[24] = {};
};

bool Writer::process() {
  const Value *name = str(kName), *cmd = str(kCmdline), *path = str(kExepath), *cwd = str(kCwd);
  const Value* pid = integer(kPid, 0, INT64_MAX);
  const Value* tid = integer(kTid, 0, INT64_MAX);
  const Value *pname = str(kPname), *pcmd = str(kPcmdline), *ppath = str(kPexepath);
  const Value* ppid = integer(kPpid, 0, INT64_MAX);
  const Value* uname = str(kUserName);
  string_view uid;
  const bool has_uid = text(kUid, uid, uid_);
  if (!name && !cmd && !path && !pid && !pname && !uname && !has_uid) return false;
  j_.k("process").beg('{');
  kv("name", name), kv("pid", pid), kv("cmd_line", cmd), kv("path", path), kv("tid", tid);
  kv("working_directory", cwd);
  if (uname || has_uid) {
    j_.k("user").beg('{');
    kv("name", uname);
    if (has_uid) j_.k("uid").str(uid);
    j_.end('}');
  }
  if (pname || pcmd || ppath || ppid) {
    j_.k("parent_process").beg('{');
    kv("name", pname), kv("pid", ppid), kv("cmd_line", pcmd), kv("path", ppath);
    j_.end('}');
  }
  j_.end('}');
  if (name) observable(R"({"name":"evidences[0].process.name","type_id":9,"type":"Process Name","value":)", name->text);
  if (pid) {
    const auto n = static_cast<std::size_t>(std::to_chars(pid_, pid_ + sizeof pid_, pid->i).ptr - pid_);
    observable(R"({"name":"evidences[0].process.pid","type_id":15,"type":"Process ID","value":)", string_view(pid_, n));
  }
  if (cmd) {
    observable(R"({"name":"evidences[0].process.cmd_line","type_id":13,"type":"Command Line","value":)", cmd->text);
  }
  if (uname) {
    observable(R"({"name":"evidences[0].process.user.name","type_id":4,"type":"User Name","value":)", uname->text);
  }
  if (pname) {
    observable(R"({"name":"evidences[0].process.parent_process.name","type_id":9,"type":"Process Name","value":)",
               pname->text);
  }
  return true;
}

bool Writer::container() {
  // Falco names the host itself "host" in container.id: no container then.
  if (slot_[kCId] && slot_[kCId]->kind == Value::Kind::String && slot_[kCId]->text == "host") return false;
  const Value *full = str(kCFullId), *id = full ? nullptr : str(kCId), *name = str(kCName);
  if (full && slot_[kCId] && slot_[kCId]->kind == Value::Kind::String && full->text.starts_with(slot_[kCId]->text)) {
    used_[kCId] = true;  // the short id is the full one's prefix
  }
  if (!full && !id && !name) return false;
  const Value *repo = str(kCImageRepo), *image = repo ? nullptr : str(kCImage), *tag = str(kCImageTag);
  const Value *image_id = str(kCImageId), *runtime = str(kCType);
  const Value *pod = str(kPodName) ? slot_[kPodName] : nullptr, *pod_uid = str(kPodUid);
  j_.k("container").beg('{');
  kv("uid", full ? full : id), kv("name", name);
  if (repo || image || image_id) {
    j_.k("image").beg('{');
    kv("name", repo ? repo : image), kv("tag", tag), kv("uid", image_id);
    j_.end('}');
  } else {
    used_[kCImageTag] = false;
  }
  kv("runtime", runtime);
  if (pod) j_.k("orchestrator").lit("Kubernetes");
  kv("pod_uuid", pod_uid);
  j_.end('}');
  return true;
}

bool Writer::file() {
  const Value* type = slot_[kFdType];
  const Value* name = slot_[kFdName];
  if (!name || name->kind != Value::Kind::String) return false;
  const bool typed = type && type->kind == Value::Kind::String;
  const bool dir = typed && type->text == "directory";
  if (typed ? !(dir || type->text == "file") : !name->text.starts_with('/')) return false;
  str(kFdName);
  if (typed) used_[kFdType] = true;
  const Value* base = str(kFilename);
  string_view file_name = base ? base->text : name->text.substr(name->text.rfind('/') + 1);
  if (file_name.empty()) file_name = name->text;
  string_view ino;
  const bool has_ino = text(kIno, ino, ino_);
  j_.k("file").beg('{');
  j_.k("name").str(file_name);
  j_.k("path").val(*name);
  kv("parent_folder", str(kDirectory));
  j_.raw(!typed ? R"(,"type_id":0,"type":"Unknown")"
         : dir  ? R"(,"type_id":2,"type":"Folder")"
                : R"(,"type_id":1,"type":"Regular File")",
         true);
  if (has_ino) j_.k("uid").str(ino);
  j_.end('}');
  observable(R"({"name":"evidences[0].file.path","type_id":45,"type":"File Path","value":)", name->text);
  return true;
}

bool Writer::endpoint(Lit key, Slot ip, Slot port, Slot host, string_view obs_head) {
  const Value* addr = slot_[ip] && slot_[ip]->kind == Value::Kind::String && valid_ip(slot_[ip]->text) ? str(ip)
                                                                                                       : nullptr;
  const Value* p = integer(port, 0, 65535);
  const Value* h = str(host);
  if (!addr && !p && !h) return false;
  j_.k(key).beg('{');
  kv("ip", addr), kv("port", p), kv("hostname", h);
  j_.end('}');
  if (addr) observable(obs_head, addr->text);
  return true;
}

void Writer::evidences() {
  const std::size_t at = j_.o.size();
  const bool had_comma = j_.c;
  j_.k("evidences").beg('[').beg('{');
  const std::size_t body = j_.o.size();
  process();
  container();
  file();
  // Client/server when Falco knows them, else local/remote.
  const bool cs = slot_[kCip] || slot_[kSip] || slot_[kCport] || slot_[kSport];
  endpoint("src_endpoint", cs ? kCip : kLip, cs ? kCport : kLport, cs ? kCipName : kLipName,
           R"({"name":"evidences[0].src_endpoint.ip","type_id":2,"type":"IP Address","value":)");
  endpoint("dst_endpoint", cs ? kSip : kRip, cs ? kSport : kRport, cs ? kSipName : kRipName,
           R"({"name":"evidences[0].dst_endpoint.ip","type_id":2,"type":"IP Address","value":)");
  if (const Value* proto = str(kL4proto)) j_.k("connection_info").beg('{').k("protocol_name").val(*proto), j_.end('}');
  if (const Value* user = str(kKaUser)) {
    j_.k("actor").beg('{').k("user").beg('{').k("name").val(*user);
    j_.end('}'), j_.end('}');
    observable(R"({"name":"evidences[0].actor.user.name","type_id":4,"type":"User Name","value":)", user->text);
  }
  if (const Value* verb = str(kKaVerb)) j_.k("api").beg('{').k("operation").val(*verb), j_.end('}');
  if (j_.o.size() == body) {  // nothing to show: no evidences at all
    j_.o.resize(at);
    j_.c = had_comma;
    return;
  }
  j_.end('}');
  j_.end(']');
}

void Writer::resources() {
  const Value *pod = str(kPodName), *target = str(kKaTargetResource);
  if (!pod && !target) return;
  j_.k("resources").beg('[');
  if (pod) {
    j_.raw(R"({"type":"Pod")", true);
    kv("name", pod), kv("uid", str(kPodUid)), kv("namespace", str(kNs));
    if (const Value* labels = slot_[kPodLabels]) {
      if (labels->kind == Value::Kind::String && !labels->text.empty()) {
        j_.k("labels").beg('[').str(labels->text), j_.end(']');
        used_[kPodLabels] = true;
      } else if (labels->kind == Value::Kind::Array &&
                 std::ranges::all_of(a_.items(*labels), [](const Value& v) { return v.kind == Value::Kind::String; })) {
        j_.k("labels").val(*labels);
        used_[kPodLabels] = true;
      }
    }
    j_.raw(R"(,"role_id":1,"role":"Target"})", true);
  }
  if (target) {
    j_.beg('{').k("type").val(*target);
    kv("name", str(kKaTargetName)), kv("namespace", str(kKaTargetNs));
    j_.raw(R"(,"role_id":1,"role":"Target"})", true);
  }
  j_.end(']');
}

// The elements of an added field that is a string or a list of strings (the mitre stage's lists); none otherwise.
std::span<const Value> added_strings(const Alert& a, string_view name, Value& one) {
  const Field* f = a.find_added(name);
  if (!f) return {};
  if (f->value.kind == Value::Kind::String) {
    one = f->value;
    return {&one, 1};
  }
  if (f->value.kind == Value::Kind::Array && f->value.added_list) return a.items(f->value);
  return {};
}

// finding_info.attacks: one entry per technique, from the tags ("T1059", "T1059.004") and from the lists stages
// added (threat.technique.subtechnique.id, threat.technique.id; a technique an entry names already is not repeated),
// each with the first tactic (the first mitre_* tag, else the first added threat.tactic.id); every other tactic
// gets an entry of its own.
void Writer::attacks() {
  thread_local std::vector<string_view> techniques;
  thread_local std::vector<std::pair<string_view, string_view>> tactics;  // uid, name ("" when unknown)
  techniques.clear();
  tactics.clear();
  for (string_view t : a_.tags) {
    if (technique_tag(t)) techniques.push_back(t);
    for (const auto& row : kTactics) {
      if (tactics.empty() && (t == row[0] || t == row[1])) tactics.emplace_back(row[1], row[2]);
    }
  }
  if (a_.has_additions()) {
    Value one;
    for (const Value& v : added_strings(a_, "threat.technique.subtechnique.id", one)) {
      if (technique_tag(v.text) && v.text.size() > 5 && std::ranges::find(techniques, v.text) == techniques.end()) {
        techniques.push_back(v.text);
      }
    }
    for (const Value& v : added_strings(a_, "threat.technique.id", one)) {
      if (v.text.size() == 5 && technique_tag(v.text) &&
          std::ranges::none_of(techniques, [&](string_view t) { return t.starts_with(v.text); })) {
        techniques.push_back(v.text);
      }
    }
    Value one_name;
    const auto names = added_strings(a_, "threat.tactic.name", one_name);
    const auto ids = added_strings(a_, "threat.tactic.id", one);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const string_view uid = ids[i].text;
      if (uid.empty() || std::ranges::any_of(tactics, [&](const auto& t) { return t.first == uid; })) continue;
      string_view name = names.size() == ids.size() ? names[i].text : string_view();
      for (const auto& row : kTactics) {
        if (name.empty() && row[1] == uid) name = row[2];
      }
      tactics.emplace_back(uid, name);
    }
  }
  if (tactics.empty() && techniques.empty()) return;
  j_.k("attacks").beg('[');
  auto tactic = [&](const std::pair<string_view, string_view>& t) {
    j_.k("tactic").beg('{');
    if (!t.second.empty()) j_.k("name").str(t.second);
    j_.k("uid").str(t.first), j_.end('}');
  };
  for (string_view t : techniques) {
    j_.beg('{').k("technique").beg('{').k("uid").str(t.substr(0, 5)), j_.end('}');
    if (t.size() > 5) j_.k("sub_technique").beg('{').k("uid").str(t), j_.end('}');
    if (!tactics.empty()) tactic(tactics.front());
    j_.end('}');
  }
  for (std::size_t i = techniques.empty() ? 0 : 1; i < tactics.size(); ++i) {
    j_.beg('{'), tactic(tactics[i]), j_.end('}');
  }
  j_.end(']');
}

// enrichments: one Enrichment object per added field: `name`, `value` (its text: strings as they are, numbers and
// booleans in decimal, lists and objects as JSON), `data` ({name: the typed value}) and, when the field's stage is
// known, `provider` and `type` from that stage's row in core/stage_origin.hpp.
void Writer::enrichments() {
  j_.k("enrichments").beg('[');
  for (const Field& f : a_.added()) {
    j_.raw(j_.c ? R"(,{"name":)" : R"({"name":)", false);
    append_json_string(j_.o, f.name);
    j_.raw(R"(,"value":)", false);
    if (f.value.kind == Value::Kind::String || f.value.kind == Value::Kind::Array ||
        f.value.kind == Value::Kind::Object) {
      append_json_string(j_.o, f.value.text);
    } else {
      j_.o.push_back('"');
      if (!f.value.is_null()) j_.val(f.value);  // numbers and booleans: nothing to escape
      j_.o.push_back('"');
    }
    j_.raw(R"(,"data":{)", false);
    j_.kx(f.name).val(f.value);
    j_.o.push_back('}');
    if (const StageOrigin& origin = stage_origin(f.stage); !origin.key.empty()) {
      // Plain texts (stage_origin.hpp checks that none needs escaping).
      j_.raw(R"(,"provider":")", false);
      j_.raw(origin.provider, false);
      j_.raw(R"(","type":")", false);
      j_.raw(origin.type, false);
      j_.o.push_back('"');
    }
    j_.raw("}", true);
  }
  j_.end(']');
}

// Every field not mapped above, by its Falco name. Names are unique: decode refuses an alert that repeats one.
void Writer::unmapped() {
  // The fields mapped above, by their index in fields(), in order.
  std::array<std::uint32_t, kSlots> mapped;
  std::size_t n_mapped = 0;
  for (std::size_t s = 0; s < kSlots; ++s) {
    if (slot_[s] && used_[s]) mapped[n_mapped++] = slot_field_[s];
  }
  std::sort(mapped.begin(), mapped.begin() + static_cast<std::ptrdiff_t>(n_mapped));
  const auto& fields = a_.fields();
  std::size_t next = 0;
  bool open = false;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (next < n_mapped && mapped[next] == i) {
      ++next;
      continue;
    }
    if (!open) j_.k("unmapped").beg('{'), open = true;
    j_.kx(fields[i].name).val(fields[i].value);
  }
  if (open) j_.end('}');
}

void Writer::run() {
  const auto& fields = a_.fields();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const Field& f = fields[i];
    if (a_.has_output_fields && f.top_level) continue;
    auto it = std::ranges::lower_bound(kSlotNames, f.name, {}, &std::pair<string_view, Slot>::first);
    if (it != std::end(kSlotNames) && it->first == f.name && !slot_[it->second]) {
      slot_[it->second] = &f.value;
      slot_field_[it->second] = static_cast<std::uint32_t>(i);
    }
  }
  const std::int64_t ms = a_.time_ns / 1000000;
  j_.raw(R"({"activity_id":1,"activity_name":"Create","category_uid":2,"category_name":"Findings",)"
         R"("class_uid":2004,"class_name":"Detection Finding",)"
         R"("type_uid":200401,"type_name":"Detection Finding: Create","time":)",
         false);
  j_.num(ms);
  j_.raw(R"(,"timezone_offset":0,)", false);
  j_.raw(severity(a_.priority), false);
  j_.raw(R"(,"status_id":1,"status":"New","is_alert":true,"message":)", false);
  j_.str(a_.rule);
  static_assert(kOcsfVersion.find_first_of("\"\\") == string_view::npos);
  j_.raw(R"(,"metadata":{"version":")", false);
  j_.raw(kOcsfVersion, false);
  j_.raw(R"(","product":{"name":"Falco","vendor_name":"Falcosecurity"})", true);
  if (!a_.tags.empty()) {
    j_.k("labels").beg('[');
    for (string_view t : a_.tags) j_.str(t);
    j_.end(']');
  }
  if (!a_.time_text.empty()) j_.k("original_time").str(a_.time_text);
  j_.raw(R"(},"finding_info":{"uid":)", false);
  j_.str(a_.uuid);
  j_.raw(R"(,"title":)", false);
  j_.str(a_.rule);
  if (!a_.output.empty()) j_.k("desc").str(a_.output);
  if (!a_.source.empty()) j_.k("types").beg('[').str(a_.source), j_.end(']');
  j_.raw(R"(,"created_time":)", false);
  j_.num(ms);
  j_.raw(R"(,"analytic":{"name":)", false);
  j_.str(a_.rule);
  j_.raw(R"(,"type_id":1,"type":"Rule"})", true);
  attacks();
  j_.end('}');
  if (!a_.hostname.empty()) {
    j_.raw(R"(,"device":{"hostname":)", false);
    j_.str(a_.hostname);
    j_.raw(R"(,"type_id":0,"type":"Unknown"})", true);
    observable(R"({"name":"device.hostname","type_id":1,"type":"Hostname","value":)", a_.hostname);
  }
  evidences();
  resources();
  const bool threats = a_.has_fields_added() && a_.find_added(kIndicatorsField);
  if (n_obs_ || threats) {
    j_.k("observables").beg('[');
    for (std::size_t i = 0; i < n_obs_; ++i) {
      if (i) j_.o.push_back(',');
      j_.o.append(observables_[i].head);
      append_json_string(j_.o, observables_[i].value);
      j_.o.push_back('}');
    }
    // What the threat_intel stage matched: the alert's value, with the feed's verdict as its reputation.
    bool comma = n_obs_ > 0;
    for_each_indicator(a_, [&](const IndicatorMatch& m) {
      if (comma) j_.o.push_back(',');
      comma = true;
      j_.o.append(R"({"name":)");
      append_json_string(j_.o, m.field);
      j_.o.append(m.type == "ipv4-addr" || m.type == "ipv6-addr" ? R"(,"type_id":2,"type":"IP Address")"
                  : m.type == "domain-name"                      ? R"(,"type_id":1,"type":"Hostname")"
                  : m.type == "file"                             ? R"(,"type_id":8,"type":"Hash")"
                  : m.type == "process"                          ? R"(,"type_id":9,"type":"Process Name")"
                                                                 : R"(,"type_id":99,"type":"Other")");
      j_.o.append(R"(,"value":)");
      Value v;
      append_json_string(j_.o, m.field != "proc.cmdline" && a_.lookup(m.field, v) && v.kind == Value::Kind::String ? v.text : m.value);
      j_.o.append(R"(,"reputation":{"base_score":100.0,"score_id":10,"score":"Malicious")");
      if (!m.feed.empty()) {
        j_.o.append(R"(,"provider":)");
        append_json_string(j_.o, m.feed);
      }
      j_.o.append("}}");
    });
    j_.raw("]", true);
  }
  if (!a_.added().empty()) enrichments();
  j_.k("raw_data").str(a_.json());
  unmapped();
  j_.end('}');
}

}  // namespace

void OcsfFormatter::format(const Alert& alert, std::string& out) const { Writer(alert, out).run(); }

}  // namespace saker
