#include "format/ocsf.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <utility>
#include <vector>

#include "core/json_text.hpp"

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

// Falco priority -> OCSF severity_id and its caption.
std::pair<int, string_view> severity(Priority p) {
  switch (p) {
    case Priority::Debug:
    case Priority::Informational: return {1, "Informational"};
    case Priority::Notice: return {2, "Low"};
    case Priority::Warning: return {3, "Medium"};
    case Priority::Error: return {4, "High"};
    case Priority::Critical:
    case Priority::Alert: return {5, "Critical"};
    case Priority::Emergency: return {6, "Fatal"};
  }
  return {0, "Unknown"};
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

// Streaming JSON with automatic commas: a comma goes before any key or element that follows a value.
struct Json {
  std::string& o;
  bool c = false;
  void sep() {
    if (c) o.push_back(',');
    c = false;
  }
  Json& k(string_view key) {
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
  void num(std::int64_t n) {
    sep();
    char b[24];
    o.append(b, std::to_chars(b, b + sizeof b, n).ptr);
    c = true;
  }
  void val(const Value& v) {
    sep();
    v.append_json(o);
    c = true;
  }
  void lit(string_view json) {
    sep();
    o.append(json);
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
  void kv(string_view key, const Value* v) {
    if (v) j_.k(key).val(*v);
  }
  void observable(string_view name, int type_id, string_view type, string_view value) {
    observables_[n_obs_++] = {name, type_id, type, value};
  }
  bool process();
  bool container();
  bool file();
  bool endpoint(string_view key, Slot ip, Slot port, Slot host, string_view obs_ip);
  void evidences();
  void resources();
  void attacks();
  void enrichments();
  void unmapped();

  struct Obs {
    string_view name;
    int type_id;
    string_view type, value;
  };
  const Alert& a_;
  Json j_;
  std::array<const Value*, kSlots> slot_{};
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
  if (name) observable("evidences[0].process.name", 9, "Process Name", name->text);
  if (pid) {
    const auto n = static_cast<std::size_t>(std::to_chars(pid_, pid_ + sizeof pid_, pid->i).ptr - pid_);
    observable("evidences[0].process.pid", 15, "Process ID", string_view(pid_, n));
  }
  if (cmd) observable("evidences[0].process.cmd_line", 13, "Command Line", cmd->text);
  if (uname) observable("evidences[0].process.user.name", 4, "User Name", uname->text);
  if (pname) observable("evidences[0].process.parent_process.name", 9, "Process Name", pname->text);
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
  if (pod) j_.k("orchestrator").str("Kubernetes");
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
  j_.k("type_id").num(typed ? (dir ? 2 : 1) : 0);
  j_.k("type").str(typed ? (dir ? "Folder" : "Regular File") : "Unknown");
  if (has_ino) j_.k("uid").str(ino);
  j_.end('}');
  observable("evidences[0].file.path", 45, "File Path", name->text);
  return true;
}

bool Writer::endpoint(string_view key, Slot ip, Slot port, Slot host, string_view obs_ip) {
  const Value* addr = slot_[ip] && slot_[ip]->kind == Value::Kind::String && valid_ip(slot_[ip]->text) ? str(ip)
                                                                                                       : nullptr;
  const Value* p = integer(port, 0, 65535);
  const Value* h = str(host);
  if (!addr && !p && !h) return false;
  j_.k(key).beg('{');
  kv("ip", addr), kv("port", p), kv("hostname", h);
  j_.end('}');
  if (addr) observable(obs_ip, 2, "IP Address", addr->text);
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
           "evidences[0].src_endpoint.ip");
  endpoint("dst_endpoint", cs ? kSip : kRip, cs ? kSport : kRport, cs ? kSipName : kRipName,
           "evidences[0].dst_endpoint.ip");
  if (const Value* proto = str(kL4proto)) j_.k("connection_info").beg('{').k("protocol_name").val(*proto), j_.end('}');
  if (const Value* user = str(kKaUser)) {
    j_.k("actor").beg('{').k("user").beg('{').k("name").val(*user);
    j_.end('}'), j_.end('}');
    observable("evidences[0].actor.user.name", 4, "User Name", user->text);
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
    j_.beg('{').k("type").str("Pod");
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
    j_.k("role_id").num(1), j_.k("role").str("Target");
    j_.end('}');
  }
  if (target) {
    j_.beg('{').k("type").val(*target);
    kv("name", str(kKaTargetName)), kv("namespace", str(kKaTargetNs));
    j_.k("role_id").num(1), j_.k("role").str("Target");
    j_.end('}');
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
// booleans in decimal, lists and objects as JSON) and `data` ({name: the typed value}).
void Writer::enrichments() {
  j_.k("enrichments").beg('[');
  for (const Field& f : a_.added()) {
    j_.beg('{').k("name").str(f.name);
    j_.k("value");
    if (f.value.kind == Value::Kind::String || f.value.kind == Value::Kind::Array ||
        f.value.kind == Value::Kind::Object) {
      j_.str(f.value.text);
    } else {
      j_.sep();
      j_.o.push_back('"');
      if (!f.value.is_null()) f.value.append_json(j_.o);  // numbers and booleans: nothing to escape
      j_.o.push_back('"');
      j_.c = true;
    }
    j_.k("data").beg('{').k(f.name).val(f.value), j_.end('}');
    j_.end('}');
  }
  j_.end(']');
}

void Writer::unmapped() {
  bool open = false;
  for (std::size_t i = 0; i < a_.fields().size(); ++i) {
    const Field& f = a_.fields()[i];
    auto it = std::ranges::lower_bound(kSlotNames, f.name, {}, &std::pair<string_view, Slot>::first);
    const bool slotted = it != std::end(kSlotNames) && it->first == f.name;
    if (slotted && slot_[it->second] == &f.value && used_[it->second]) continue;
    // A repeated name keeps its first value only: JSON object keys are unique.
    if (std::any_of(a_.fields().begin(), a_.fields().begin() + static_cast<std::ptrdiff_t>(i),
                    [&](const Field& g) { return g.name == f.name; })) {
      continue;
    }
    if (!open) j_.k("unmapped").beg('{'), open = true;
    j_.k(f.name).val(f.value);
  }
  if (open) j_.end('}');
}

void Writer::run() {
  for (const Field& f : a_.fields()) {
    if (a_.has_output_fields && f.top_level) continue;
    auto it = std::ranges::lower_bound(kSlotNames, f.name, {}, &std::pair<string_view, Slot>::first);
    if (it != std::end(kSlotNames) && it->first == f.name && !slot_[it->second]) slot_[it->second] = &f.value;
  }
  const std::int64_t ms = a_.time_ns / 1000000;
  const auto [sev_id, sev] = severity(a_.priority);
  j_.beg('{');
  j_.k("activity_id").num(1), j_.k("activity_name").str("Create");
  j_.k("category_uid").num(2), j_.k("category_name").str("Findings");
  j_.k("class_uid").num(2004), j_.k("class_name").str("Detection Finding");
  j_.k("type_uid").num(200401), j_.k("type_name").str("Detection Finding: Create");
  j_.k("time").num(ms), j_.k("timezone_offset").num(0);
  j_.k("severity_id").num(sev_id), j_.k("severity").str(sev);
  j_.k("status_id").num(1), j_.k("status").str("New");
  j_.k("is_alert").lit("true");
  j_.k("message").str(a_.rule);
  j_.k("metadata").beg('{').k("version").str(kOcsfVersion);
  j_.k("product").beg('{').k("name").str("Falco"), j_.k("vendor_name").str("Falcosecurity"), j_.end('}');
  if (!a_.tags.empty()) {
    j_.k("labels").beg('[');
    for (string_view t : a_.tags) j_.str(t);
    j_.end(']');
  }
  if (!a_.time_text.empty()) j_.k("original_time").str(a_.time_text);
  j_.end('}');
  j_.k("finding_info").beg('{').k("uid").str(a_.uuid), j_.k("title").str(a_.rule);
  if (!a_.output.empty()) j_.k("desc").str(a_.output);
  if (!a_.source.empty()) j_.k("types").beg('[').str(a_.source), j_.end(']');
  j_.k("created_time").num(ms);
  j_.k("analytic").beg('{').k("name").str(a_.rule), j_.k("type_id").num(1), j_.k("type").str("Rule"), j_.end('}');
  attacks();
  j_.end('}');
  if (!a_.hostname.empty()) {
    j_.k("device").beg('{').k("hostname").str(a_.hostname), j_.k("type_id").num(0), j_.k("type").str("Unknown");
    j_.end('}');
    observable("device.hostname", 1, "Hostname", a_.hostname);
  }
  evidences();
  resources();
  if (n_obs_) {
    j_.k("observables").beg('[');
    for (std::size_t i = 0; i < n_obs_; ++i) {
      const Obs& o = observables_[i];
      j_.beg('{').k("name").str(o.name), j_.k("type_id").num(o.type_id), j_.k("type").str(o.type);
      j_.k("value").str(o.value), j_.end('}');
    }
    j_.end(']');
  }
  if (!a_.added().empty()) enrichments();
  j_.k("raw_data").str(a_.json());
  unmapped();
  j_.end('}');
}

}  // namespace

void OcsfFormatter::format(const Alert& alert, std::string& out) const { Writer(alert, out).run(); }

}  // namespace saker
