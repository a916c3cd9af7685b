#include "format/ecs.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <tuple>
#include <utility>
#include <vector>

#include "core/json_text.hpp"
#include "core/time.hpp"
#include "format/ecs_added.hpp"
#include "format/ecs_rules.hpp"

namespace saker {
namespace {

using std::string_view;

// The Falco fields the mapping reads, sorted; one pass over the alert fills a slot per name (first one wins).
constexpr string_view kNames[] = {
    "container.id", "container.image", "container.image.digest", "container.ip", "container.mounts",
    "container.name", "container.privileged", "container.type", "evt.category", "evt.failed", "evt.num",
    "evt.rawtime", "evt.res", "evt.time", "evt.time.iso8601", "evt.type", "fd.cip", "fd.cip.name", "fd.cport",
    "fd.directory", "fd.filename", "fd.ino", "fd.lip", "fd.lip.name", "fd.lport", "fd.name", "fd.rip", "fd.rip.name",
    "fd.rport", "fd.sip", "fd.sip.name", "fd.sport", "fd.type", "group.gid", "group.name", "k8s.ns.name",
    "k8s.pod.ip", "k8s.pod.labels", "k8s.pod.name", "k8s.pod.uid", "proc.args", "proc.cmdline", "proc.cmdnargs",
    "proc.cwd", "proc.duration", "proc.env", "proc.exepath", "proc.is_sid_leader", "proc.is_vpgid_leader",
    "proc.name", "proc.pcmdline", "proc.pexepath", "proc.pid", "proc.pid.ts", "proc.pname", "proc.ppid",
    "proc.ppid.duration", "proc.ppid.ts", "proc.pvpid", "proc.sid", "proc.sid.exepath", "proc.sname", "proc.vpgid",
    "proc.vpgid.exepath", "proc.vpgid.name", "proc.vpid", "thread.cap_effective", "thread.cap_permitted",
    "thread.tid", "user.name", "user.uid"};
static_assert(std::ranges::is_sorted(kNames));
constexpr std::size_t kSlots = std::size(kNames);

// A field's slot, found at compile time (a name missing from kNames does not compile).
consteval std::size_t slot(string_view name) {
  const auto* it = std::ranges::lower_bound(kNames, name);
  if (it == std::end(kNames) || *it != name) throw "not in kNames";
  return static_cast<std::size_t>(it - std::begin(kNames));
}

// ECS field <- Falco field, copied as it is when present (neither null nor "").
constexpr std::pair<string_view, std::size_t> kCopies[] = {
    {"event.sequence", slot("evt.num")}, {"process.executable", slot("proc.exepath")},
    {"process.parent.executable", slot("proc.pexepath")}, {"process.name", slot("proc.name")},
    {"process.parent.name", slot("proc.pname")}, {"process.command_line", slot("proc.cmdline")},
    {"process.parent.command_line", slot("proc.pcmdline")}, {"process.args_count", slot("proc.cmdnargs")},
    {"process.working_directory", slot("proc.cwd")}, {"process.pid", slot("proc.pid")},
    {"process.parent.pid", slot("proc.ppid")}, {"process.vpid", slot("proc.vpid")},
    {"process.parent.vpid", slot("proc.pvpid")}, {"process.session_leader.pid", slot("proc.sid")},
    {"process.session_leader.name", slot("proc.sname")},
    {"process.session_leader.executable", slot("proc.sid.exepath")},
    {"process.group_leader.vpid", slot("proc.vpgid")}, {"process.group_leader.name", slot("proc.vpgid.name")},
    {"process.group_leader.executable", slot("proc.vpgid.exepath")},
    {"process.parent.uptime", slot("proc.ppid.duration")}, {"process.start", slot("proc.pid.ts")},
    {"process.parent.start", slot("proc.ppid.ts")},
    {"process.session_leader.same_as_process", slot("proc.is_sid_leader")},
    {"process.group_leader.same_as_process", slot("proc.is_vpgid_leader")},
    {"process.thread.capabilities.permitted", slot("thread.cap_permitted")},
    {"process.thread.capabilities.effective", slot("thread.cap_effective")}, {"process.thread.id", slot("thread.tid")},
    {"process.user.id", slot("user.uid")}, {"process.user.name", slot("user.name")},
    {"process.group.id", slot("group.gid")}, {"process.group.name", slot("group.name")},
    {"container.id", slot("container.id")}, {"container.name", slot("container.name")},
    {"container.image.name", slot("container.image")}, {"container.runtime", slot("container.type")},
    {"container.security_context.privileged", slot("container.privileged")},
    {"container.image.hash.all", slot("container.image.digest")}, {"file.directory", slot("fd.directory")},
    {"file.name", slot("fd.filename")}, {"file.inode", slot("fd.ino")}, {"client.port", slot("fd.cport")},
    {"server.port", slot("fd.sport")}, {"source.port", slot("fd.lport")}, {"destination.port", slot("fd.rport")},
    {"client.domain", slot("fd.cip.name")}, {"server.domain", slot("fd.sip.name")},
    {"source.domain", slot("fd.lip.name")}, {"destination.domain", slot("fd.rip.name")},
    {"orchestrator.namespace", slot("k8s.ns.name")}, {"orchestrator.resource.name", slot("k8s.pod.name")},
    {"orchestrator.resource.id", slot("k8s.pod.uid")}, {"orchestrator.resource.label", slot("k8s.pod.labels")},
};

// The pipeline renames these before expanding dots, so they do not collide with their sub-fields.
constexpr std::pair<string_view, string_view> kRenames[] = {
    {"container.image", "container.image.name"}, {"fd.cip", "client.ip"}, {"fd.lip", "source.ip"},
    {"fd.rip", "destination.ip"}, {"fd.sip", "server.ip"}, {"proc.pid", "process.pid"},
    {"proc.ppid", "process.parent.pid"}, {"proc.sid", "process.session_leader.pid"},
    {"proc.vpgid", "process.group_leader.vpid"},
};

// Always dropped from falco.output_fields (with their sub-fields): undocumented fields Falco sends.
constexpr string_view kAlwaysRemoved[] = {"evt.arg.flags", "proc.aname[2]", "proc.aname[3]", "proc.aname[4]",
                                          "proc.aname[5]", "proc.aname[6]", "proc.aname[7]"};
static_assert(std::ranges::is_sorted(kAlwaysRemoved));

// Dropped unless preserve_falco_fields: the fields copied to ECS (paths after the renames above).
constexpr string_view kMappedRemoved[] = {
    "container.id", "container.image.digest", "container.ip", "container.name", "container.privileged",
    "container.type", "evt.num", "evt.time", "fd.cip.name", "fd.cport", "fd.directory", "fd.filename", "fd.ino",
    "fd.lip", "fd.lip.name", "fd.lport", "fd.rip.name", "fd.rport", "fd.sip.name", "fd.sport", "group.gid",
    "group.name", "k8s.ns.name", "k8s.pod.ip", "k8s.pod.labels", "k8s.pod.name", "k8s.pod.uid", "proc.cmdline",
    "proc.cmdnargs", "proc.cwd", "proc.duration", "proc.env", "proc.exepath", "proc.is_sid_leader",
    "proc.is_vpgid_leader", "proc.name", "proc.pcmdline", "proc.pexepath", "proc.pid.ts", "proc.pname",
    "proc.ppid.duration", "proc.ppid.ts", "proc.pvpid", "proc.sid.exepath", "proc.sname", "proc.vpgid",
    "proc.vpgid.exepath", "proc.vpgid.name", "proc.vpid", "thread.cap_effective", "thread.cap_permitted",
    "thread.tid", "user.name", "user.uid"};
static_assert(std::ranges::is_sorted(kMappedRemoved));

bool present(const Value* v) { return v && !v->is_null() && !(v->kind == Value::Kind::String && v->text.empty()); }
bool is_str(const Value* v) { return v && v->kind == Value::Kind::String; }

bool valid_ip(string_view s) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::copy(s.begin(), s.end(), buf);
  buf[s.size()] = '\0';
  unsigned char addr[16];
  return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

// Nanoseconds from an integer or RFC 3339 time value.
std::optional<std::int64_t> time_of(const Value* v) {
  if (!v) return std::nullopt;
  if (v->kind == Value::Kind::Int) return v->i;
  if (v->kind == Value::Kind::String) return parse_rfc3339_ns(v->text);
  return std::nullopt;
}

// Orders dotted paths segment by segment, a path right before its descendants, so the members of every object
// are contiguous.
bool path_less(string_view a, string_view b) {
  for (;;) {
    const std::size_t ia = a.find('.'), ib = b.find('.');
    const string_view sa = a.substr(0, ia), sb = b.substr(0, ib);
    if (sa != sb) return sa < sb;
    if (ia == string_view::npos || ib == string_view::npos) return ia == string_view::npos && ib != string_view::npos;
    a.remove_prefix(ia + 1);
    b.remove_prefix(ib + 1);
  }
}

bool is_descendant(string_view parent, string_view p) {
  return p.size() > parent.size() && p[parent.size()] == '.' && p.starts_with(parent);
}

// True when `path` or one of its ancestors is in the sorted list.
bool listed(string_view path, std::span<const string_view> sorted) {
  for (std::size_t i = path.find('.');; i = path.find('.', i + 1)) {
    if (std::ranges::binary_search(sorted, path.substr(0, i))) return true;
    if (i == string_view::npos) return false;
  }
}

// Writes nested JSON members from dotted paths given in path_less order, opening and closing objects.
class Nest {
 public:
  explicit Nest(std::string& out) : out_(out) {}
  // Emits `"key":` for member `key` of the object at `parent` (root when `root`); the caller appends the value.
  void member(string_view parent, bool root, string_view key) {
    std::size_t want = root ? 0 : std::ranges::count(parent, '.') + 1;
    std::size_t common = 0;
    string_view a = open_, b = parent;
    while (common < depth_ && common < want) {
      const std::size_t ia = a.find('.'), ib = b.find('.');
      if (a.substr(0, ia) != b.substr(0, ib)) break;
      ++common;
      a.remove_prefix(ia == string_view::npos ? a.size() : ia + 1);
      b.remove_prefix(ib == string_view::npos ? b.size() : ib + 1);
    }
    for (; depth_ > common; --depth_) out_.push_back('}'), comma_ = true;
    for (; depth_ < want; ++depth_) {
      const std::size_t ib = b.find('.');
      key_(b.substr(0, ib));
      out_.push_back('{');
      comma_ = false;
      b.remove_prefix(ib == string_view::npos ? b.size() : ib + 1);
    }
    open_ = parent;
    key_(key);
    comma_ = true;
  }
  void leaf(string_view path) {
    const std::size_t dot = path.rfind('.');
    if (dot == string_view::npos) return member({}, true, path);
    member(path.substr(0, dot), false, path.substr(dot + 1));
  }
  void close() {
    for (; depth_ > 0; --depth_) out_.push_back('}');
    comma_ = true;
  }
  bool wrote() const { return comma_; }

 private:
  void key_(string_view k) {
    if (comma_) out_.push_back(',');
    append_json_string(out_, k);
    out_.push_back(':');
  }
  std::string& out_;
  string_view open_;
  std::size_t depth_ = 0;
  bool comma_ = false;
};

struct Member {
  string_view path;
  enum class K : std::uint8_t { Val, Str1, Args, Env, Falco, Strs, Labels, Tags, Raw } k = K::Val;
  Value v;             // Val; Args: the executable
  string_view text;    // Str1: the one string; Args/Env: the text to split; Raw: JSON written as it is
  std::uint32_t first = 0, count = 0;  // Strs: the strings, in the writer's string pool
};

struct Leaf {
  string_view path;
  Value v;
  std::size_t order;  // position in the alert: equal paths keep it, so the first one wins
};

template <typename T>
std::vector<T>& per_thread() {
  thread_local std::vector<T> v;
  return v;
}

class Writer {
 public:
  Writer(const Alert& a, const EcsOptions& o, std::string& out) : a_(a), o_(o), out_(out) {}
  void run();

 private:
  const Value* s(std::size_t i) const { return slot_[i]; }
  void add(string_view path, const Value* v) {
    if (present(v)) members_.push_back({path, Member::K::Val, *v, {}});
  }
  void add(string_view path, Value v) { members_.push_back({path, Member::K::Val, v, {}}); }
  void add1(string_view path, string_view text) { members_.push_back({path, Member::K::Str1, {}, text}); }
  void map_ecs();
  void write_member(const Member& m);
  void write_falco();
  void write_output_fields();
  void write_mounts(string_view mounts);
  void map_threat();

  const Alert& a_;
  const EcsOptions& o_;
  std::string& out_;
  std::array<const Value*, kSlots> slot_{};
  // Reused per thread: formatting an alert allocates nothing once these have grown.
  std::vector<Member>& members_ = per_thread<Member>();
  std::vector<Leaf>& leaves_ = per_thread<Leaf>();
  std::vector<string_view>& strs_ = per_thread<string_view>();
  std::string ts_, iso_, scratch_, enrichments_;
  char uid_[32] = {};
  Value uid_value_;
  const Value* uid_src_ = nullptr;  // the user.uid field converted into uid_value_
};

void Writer::map_ecs() {
  add("event.kind", Value::string("alert"));
  if (o_.preserve_original) add("event.original", Value::string(a_.json()));
  const Value *cat = s(slot("evt.category")), *type = s(slot("evt.type")), *res = s(slot("evt.res"));
  add1("event.category", is_str(cat) ? ecs_rules::event_category(cat->text) : "process");
  add1("event.type", is_str(type) ? ecs_rules::event_type(type->text) : "info");
  const Value* failed = s(slot("evt.failed"));
  if (is_str(res) && res->text == "SUCCESS") {
    add("event.outcome", Value::string("success"));
  } else if (present(res) && failed && failed->kind == Value::Kind::Bool && failed->boolean) {
    add("event.outcome", Value::string("failure"));
  }
  add("event.severity", Value::integer(ecs_rules::severity(a_.priority)));
  if (!a_.source.empty()) add("event.provider", Value::string(a_.source));
  if (!a_.rule.empty()) {
    add("rule.name", Value::string(a_.rule));
    add("message", Value::string(a_.rule));
  }
  map_threat();
  // @timestamp: the syscall's time (evt.time.iso8601, evt.time, evt.rawtime), else the alert's.
  const Value *iso = s(slot("evt.time.iso8601")), *evt_time = s(slot("evt.time"));
  auto ts = time_of(iso);
  if (!ts && !iso) ts = time_of(evt_time);
  if (!ts && !iso && !evt_time) ts = time_of(s(slot("evt.rawtime")));
  ts_ = format_rfc3339_ms(ts ? *ts / 1000000 * 1000000 : a_.time_ns);
  add("@timestamp", Value::string(ts_));
  if (!a_.hostname.empty()) {
    for (string_view p : {"observer.hostname", "host.name"}) add(p, Value::string(a_.hostname));
    add1("related.hosts", a_.hostname);
  }
  add("observer.type", Value::string("sensor"));
  add("observer.vendor", Value::string("sysdig"));
  add("observer.product", Value::string("falco"));
  const Value *exe = s(slot("proc.exepath")), *args = s(slot("proc.args")), *env = s(slot("proc.env"));
  if (exe && !exe->is_null() && is_str(args)) members_.push_back({"process.args", Member::K::Args, *exe, args->text});
  if (is_str(env)) members_.push_back({"process.env_vars", Member::K::Env, {}, env->text});
  if (const Value* d = s(slot("proc.duration")); d && (d->kind == Value::Kind::Int || d->kind == Value::Kind::Uint)) {
    add("process.uptime", d);
  } else if (is_str(d)) {
    std::int64_t n = 0;
    const auto r = std::from_chars(d->text.data(), d->text.data() + d->text.size(), n);
    if (r.ec == std::errc() && r.ptr == d->text.data() + d->text.size()) add("process.uptime", Value::integer(n));
  }
  if (const Value* u = s(slot("user.uid")); u && (u->kind == Value::Kind::Int || u->kind == Value::Kind::Uint ||
                                                  u->kind == Value::Kind::Double || u->kind == Value::Kind::Bool)) {
    // The pipeline converts user.uid to a string, in falco.output_fields too.
    const std::string t = u->to_text();
    const std::size_t n = std::min(t.size(), sizeof uid_);
    std::copy_n(t.data(), n, uid_);
    uid_value_ = Value::string(string_view(uid_, n));
    uid_src_ = u;
    slot_[slot("user.uid")] = &uid_value_;
  }
  for (const auto& [path, from] : kCopies) add(path, s(from));
  const Value* cip = s(slot("container.ip"));
  if (present(cip)) add1("host.ip", is_str(cip) ? cip->text : (scratch_ = cip->to_text()));
  const Value *fd_type = s(slot("fd.type")), *fd_name = s(slot("fd.name"));
  if (is_str(fd_type) && (fd_type->text == "file" || fd_type->text == "directory") && is_str(fd_name)) {
    add("file.path", fd_name);
    add("file.type", fd_type);
  }
  // The fd's endpoints: ip and address only for valid IP addresses.
  static constexpr std::tuple<string_view, string_view, std::size_t> kIps[] = {
      {"client.ip", "client.address", slot("fd.cip")}, {"server.ip", "server.address", slot("fd.sip")},
      {"source.ip", "source.address", slot("fd.lip")}, {"destination.ip", "destination.address", slot("fd.rip")}};
  for (const auto& [ip, address, from] : kIps) {
    if (const Value* v = s(from); is_str(v) && valid_ip(v->text)) add(ip, v), add(address, v);
  }
  const Value *pod_ip = s(slot("k8s.pod.ip")), *pod = s(slot("k8s.pod.name"));
  if (is_str(pod_ip) && valid_ip(pod_ip->text)) add("orchestrator.resource.ip", pod_ip);
  if (pod && !pod->is_null()) {
    add("orchestrator.resource.type", Value::string("pod"));
    add("orchestrator.type", Value::string("kubernetes"));
  }
  members_.push_back({"falco", Member::K::Falco, {}, {}});
  if (a_.has_fields_added()) {
    // The endpoints' places and networks (the geoip stage), the user's name, email and role (users): ECS's own.
    for (const Field f : a_.added()) {
      const string_view path = ecs_added::ecs_path(f.name);
      if (path.empty() || !present(&f.value)) continue;
      if (path == ecs_added::kEcsArrayPath && f.value.kind == Value::Kind::String) {
        add1(path, f.value.text);
      } else {
        add(path, f.value);
      }
    }
  }
  if (a_.has_additions()) {
    // What else stages added: fields under `labels`, tags under `tags` (falco.tags has every tag).
    if (ecs_added::has_labels(a_)) members_.push_back({"labels", Member::K::Labels, {}, {}});
    if (!a_.added_tags().empty()) members_.push_back({"tags", Member::K::Tags, {}, {}});
  }
}

// threat.*: the technique ids the pipeline finds in the tags, merged with the lists stages added (one list per
// field, each id once); threat.framework when a stage added any.
void Writer::map_threat() {
  strs_.clear();
  bool added = false;
  for (string_view path : ecs_added::kThreatFields) {
    const auto first = static_cast<std::uint32_t>(strs_.size());
    added |= ecs_added::threat_ids(a_, path, strs_);
    const auto count = static_cast<std::uint32_t>(strs_.size()) - first;
    if (count) members_.push_back({path, Member::K::Strs, {}, {}, first, count});
  }
  if (added) add("threat.framework", Value::string("MITRE ATT&CK"));
  enrichments_.clear();
  if (ecs_added::append_threat_enrichments(enrichments_, a_)) {
    members_.push_back({"threat.enrichments", Member::K::Raw, {}, enrichments_});
  }
}

void Writer::write_member(const Member& m) {
  switch (m.k) {
    case Member::K::Val: m.v.append_json(out_); break;
    case Member::K::Str1:
      out_.push_back('[');
      append_json_string(out_, m.text);
      out_.push_back(']');
      break;
    case Member::K::Args:
      out_.push_back('[');
      m.v.append_json(out_);
      out_.push_back(',');
      ecs_rules::append_split(out_, m.text, false);
      out_.push_back(']');
      break;
    case Member::K::Env:
      out_.push_back('[');
      ecs_rules::append_split(out_, m.text, true);
      out_.push_back(']');
      break;
    case Member::K::Falco: write_falco(); break;
    case Member::K::Strs:
      out_.push_back('[');
      for (std::uint32_t i = 0; i < m.count; ++i) {
        if (i) out_.push_back(',');
        append_json_string(out_, strs_[m.first + i]);
      }
      out_.push_back(']');
      break;
    case Member::K::Labels: ecs_added::append_labels(out_, a_); break;
    case Member::K::Raw: out_.append(m.text); break;
    case Member::K::Tags:
      out_.push_back('[');
      for (std::size_t i = 0; i < a_.added_tags().size(); ++i) {
        if (i) out_.push_back(',');
        append_json_string(out_, a_.added_tags()[i]);
      }
      out_.push_back(']');
      break;
  }
}

void Writer::write_output_fields() {
  leaves_.clear();
  const bool shaped = a_.has_output_fields;
  for (const Field& f : a_.fields()) {
    if (shaped && f.top_level) continue;
    string_view path = f.name;
    for (const auto& [from, to] : kRenames) {
      if (from == path) path = to;
    }
    if (listed(path, kAlwaysRemoved) || (!o_.preserve_falco_fields && listed(path, kMappedRemoved))) continue;
    Value v = f.value;
    if (&f.value == uid_src_) {
      v = uid_value_;
    } else if (&f.value == s(slot("evt.time.iso8601")) && v.kind == Value::Kind::Int) {
      v = Value::integer(v.i / 1000000);  // the pipeline keeps milliseconds
    } else if (&f.value == s(slot("evt.time.iso8601")) && v.kind == Value::Kind::String) {
      if (auto ns = parse_rfc3339_ns(v.text)) v = Value::string(iso_ = format_rfc3339_ms(*ns));
    }
    leaves_.push_back({path, v, leaves_.size()});
  }
  std::ranges::sort(leaves_, [](const Leaf& x, const Leaf& y) {
    return path_less(x.path, y.path) || (!path_less(y.path, x.path) && x.order < y.order);
  });
  out_.push_back('{');
  Nest nest(out_);
  for (std::size_t i = 0; i < leaves_.size(); ++i) {
    const Leaf& l = leaves_[i];
    if (i > 0 && leaves_[i - 1].path == l.path) continue;  // a repeated name: the first one wins
    std::size_t j = i + 1;
    while (j < leaves_.size() && leaves_[j].path == l.path) ++j;
    if (j < leaves_.size() && is_descendant(l.path, leaves_[j].path)) {
      // A value with sub-fields ("evt.time" and "evt.time.iso8601"): it becomes the object's "value" member.
      bool taken = false;
      for (std::size_t k = j; k < leaves_.size() && is_descendant(l.path, leaves_[k].path); ++k) {
        const string_view rest = leaves_[k].path.substr(l.path.size() + 1);
        taken |= rest.substr(0, rest.find('.')) == "value";
      }
      if (!taken) {
        nest.member(l.path, false, "value");
        l.v.append_json(out_);
      }
      continue;
    }
    nest.leaf(l.path);
    l.v.append_json(out_);
  }
  nest.close();
  out_.push_back('}');
}

void Writer::write_falco() {
  out_.push_back('{');
  bool comma = false;
  auto key = [&](string_view k) {
    if (comma) out_.push_back(',');
    comma = true;
    append_json_string(out_, k);
    out_.push_back(':');
  };
  if (!a_.hostname.empty()) key("hostname"), append_json_string(out_, a_.hostname);
  if (!a_.output.empty()) key("output"), append_json_string(out_, a_.output);
  key("output_fields");
  write_output_fields();
  key("priority"), append_json_string(out_, a_.priority_text);
  if (o_.preserve_falco_fields && !a_.rule.empty()) key("rule"), append_json_string(out_, a_.rule);
  if (!a_.source.empty()) key("source"), append_json_string(out_, a_.source);
  key("tags");
  out_.push_back('[');
  for (std::size_t i = 0; i < a_.tags.size(); ++i) {
    if (i) out_.push_back(',');
    append_json_string(out_, a_.tags[i]);
  }
  out_.push_back(']');
  if (!a_.time_text.empty()) {
    key("time"), append_json_string(out_, a_.time_text);
  } else if (a_.time_was_integer) {
    key("time"), Value::integer(a_.time_ns).append_json(out_);
  }
  key("uuid"), append_json_string(out_, a_.uuid);
  // Unknown top-level keys of the Falco shape sit beside them, as Elastic's json processor puts them.
  if (a_.has_output_fields) {
    static constexpr string_view kTaken[] = {"hostname", "output", "output_fields", "priority", "rule",
                                             "source", "tags", "time", "uuid"};
    for (std::size_t i = 0; i < a_.fields().size(); ++i) {
      const Field& f = a_.fields()[i];
      if (!f.top_level || std::ranges::find(kTaken, f.name) != std::end(kTaken)) continue;
      if (std::any_of(a_.fields().begin(), a_.fields().begin() + static_cast<std::ptrdiff_t>(i),
                      [&](const Field& g) { return g.top_level && g.name == f.name; })) {
        continue;
      }
      key(f.name);
      f.value.append_json(out_);
    }
  }
  out_.push_back('}');
}

// container.mounts "src:dst:mode:rdrw:propagation ..." as a list of objects, like the pipeline's script.
void Writer::write_mounts(string_view mounts) {
  out_.append(",\"falco.container.mounts\":[");
  static constexpr string_view kKeys[] = {"source", "dest", "mode", "rdrw", "propagation"};
  for (std::size_t p = 0, n = 0;; ++n) {
    std::size_t e = mounts.find(' ', p);
    if (e == string_view::npos) e = mounts.size();
    string_view item = mounts.substr(p, e - p);
    bool more = true;  // parts left in item; missing parts are null
    out_.append(n ? ",{" : "{");
    for (std::size_t k = 0; k < std::size(kKeys); ++k) {
      if (k) out_.push_back(',');
      append_json_string(out_, kKeys[k]);
      out_.push_back(':');
      if (!more) {
        out_.append("null");
        continue;
      }
      const std::size_t c = item.find(':');
      append_json_string(out_, item.substr(0, c));
      more = c != string_view::npos;
      if (more) item.remove_prefix(c + 1);
    }
    out_.push_back('}');
    if (e == mounts.size()) break;
    p = e + 1;
  }
  out_.push_back(']');
}

void Writer::run() {
  for (const Field& f : a_.fields()) {
    if (a_.has_output_fields && f.top_level) continue;
    const auto* it = std::ranges::lower_bound(kNames, f.name);
    const auto i = static_cast<std::size_t>(it - std::begin(kNames));
    if (it != std::end(kNames) && *it == f.name && !slot_[i]) slot_[i] = &f.value;
  }
  members_.clear();
  map_ecs();
  std::ranges::sort(members_, path_less, &Member::path);  // every path is distinct
  out_.push_back('{');
  Nest nest(out_);
  for (const Member& m : members_) {
    nest.leaf(m.path);
    write_member(m);
  }
  nest.close();
  if (const Value* m = s(slot("container.mounts")); is_str(m)) write_mounts(m->text);
  out_.push_back('}');
}

}  // namespace

void EcsFormatter::format(const Alert& alert, std::string& out) const { Writer(alert, opt_, out).run(); }

}  // namespace saker
