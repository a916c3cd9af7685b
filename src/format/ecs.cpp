#include "format/ecs.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>
#include <vector>

#include "core/json_text.hpp"
#include "core/time.hpp"

namespace saker {
namespace {

using std::string_view;

// The Falco fields the mapping reads; one pass over the alert fills a slot per name (first occurrence wins).
enum Slot : std::uint8_t {
  kCip, kCipName, kCport, kDirectory, kFdName, kFdType, kFilename, kIno, kLip, kLipName, kLport, kRip, kRipName,
  kRport, kSip, kSipName, kSport, kCId, kCImage, kCDigest, kCIp, kCMounts, kCName, kCPriv, kCType, kEvtCategory,
  kEvtFailed, kEvtNum, kEvtRawtime, kEvtRes, kEvtTime, kEvtIso, kEvtType, kGid, kGname, kNs, kPodIp, kPodLabels,
  kPodName, kPodUid, kArgs, kCmdline, kCmdnargs, kCwd, kDuration, kEnv, kExepath, kSidLeader, kVpgidLeader, kName,
  kPcmdline, kPexepath, kPid, kPidTs, kPname, kPpid, kPpidDuration, kPpidTs, kPvpid, kSid, kSidExe, kSname, kVpgid,
  kVpgidExe, kVpgidName, kVpid, kCapEff, kCapPerm, kTid, kUserName, kUid, kSlots
};

constexpr std::pair<string_view, Slot> kSlotNames[] = {
    {"container.id", kCId}, {"container.image", kCImage}, {"container.image.digest", kCDigest},
    {"container.ip", kCIp}, {"container.mounts", kCMounts}, {"container.name", kCName},
    {"container.privileged", kCPriv}, {"container.type", kCType}, {"evt.category", kEvtCategory},
    {"evt.failed", kEvtFailed}, {"evt.num", kEvtNum}, {"evt.rawtime", kEvtRawtime}, {"evt.res", kEvtRes},
    {"evt.time", kEvtTime}, {"evt.time.iso8601", kEvtIso}, {"evt.type", kEvtType}, {"fd.cip", kCip},
    {"fd.cip.name", kCipName}, {"fd.cport", kCport}, {"fd.directory", kDirectory}, {"fd.filename", kFilename},
    {"fd.ino", kIno}, {"fd.lip", kLip}, {"fd.lip.name", kLipName}, {"fd.lport", kLport}, {"fd.name", kFdName},
    {"fd.rip", kRip}, {"fd.rip.name", kRipName}, {"fd.rport", kRport}, {"fd.sip", kSip}, {"fd.sip.name", kSipName},
    {"fd.sport", kSport}, {"fd.type", kFdType}, {"group.gid", kGid}, {"group.name", kGname}, {"k8s.ns.name", kNs},
    {"k8s.pod.ip", kPodIp}, {"k8s.pod.labels", kPodLabels}, {"k8s.pod.name", kPodName}, {"k8s.pod.uid", kPodUid},
    {"proc.args", kArgs}, {"proc.cmdline", kCmdline}, {"proc.cmdnargs", kCmdnargs}, {"proc.cwd", kCwd},
    {"proc.duration", kDuration}, {"proc.env", kEnv}, {"proc.exepath", kExepath}, {"proc.is_sid_leader", kSidLeader},
    {"proc.is_vpgid_leader", kVpgidLeader}, {"proc.name", kName}, {"proc.pcmdline", kPcmdline},
    {"proc.pexepath", kPexepath}, {"proc.pid", kPid}, {"proc.pid.ts", kPidTs}, {"proc.pname", kPname},
    {"proc.ppid", kPpid}, {"proc.ppid.duration", kPpidDuration}, {"proc.ppid.ts", kPpidTs}, {"proc.pvpid", kPvpid},
    {"proc.sid", kSid}, {"proc.sid.exepath", kSidExe}, {"proc.sname", kSname}, {"proc.vpgid", kVpgid},
    {"proc.vpgid.exepath", kVpgidExe}, {"proc.vpgid.name", kVpgidName}, {"proc.vpid", kVpid},
    {"thread.cap_effective", kCapEff}, {"thread.cap_permitted", kCapPerm}, {"thread.tid", kTid},
    {"user.name", kUserName}, {"user.uid", kUid},
};
static_assert(std::size(kSlotNames) == kSlots);
static_assert(std::ranges::is_sorted(kSlotNames, {}, &std::pair<string_view, Slot>::first));

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

// syscall -> ECS event.type, in the pipeline's order of precedence; anything else is "info".
constexpr std::pair<string_view, string_view> kEventTypes[] = {
    {"access", "faccessat faccessat2 fsopen name_to_handle_at nfsservctl open open_by_handle_at open_tree openat "
               "openat2 pciconfig_read pidfd_open read readahead readdir readlink readlinkat readv "
               "s390_pci_mmio_read uselib vm86old vm86"},
    {"admin", "bdflush membarrier ptrace reboot restart_syscall"},
    {"allowed", "fallocate finit_module"},
    {"change", "llseek sysctl acct adjtimex alarm arch_prctl bind bpf brk capset chdir chmod chown chown32 chroot "
               "clock_adjtime clock_nanosleep clock_settime close close_range epoll_ctl fchdir fchmod fchmodat fchown "
               "fchown32 fchownat fcntl fcntl64 flock free_hugepages fsetxattr fsconfig ftruncate ftruncate64 "
               "futimesat io_setup io_uring_setup ioctl ioperm iopl ioprio_set keyctl landlock_restrict_self lchown "
               "lchown32 madvise mbind memory_ordering migrate_pages mlock mlock2 mlockall mmap mmap2 modify_ldt "
               "move_mount move_pages mprotect mq_getsetattr mremap msgctl munlock munlockall munmap nanosleep nice "
               "old_adjtimex pause pciconfig_write personality perfctr perfmonctl pivot_root pkey_alloc pkey_free "
               "pkey_mprotect prctl prlimit64 process_madvise process_vm_writev pwrite64 pwritev pwritev2 quotactl "
               "quotactl_fd rename renameat renameat2 rseq rt_sigaction rt_sigpending rt_sigprocmask "
               "rt_sigqueueinfo rt_sigreturn rtas s390_pci_mmio_write s390_guarded_storage sched_setaffinity "
               "sched_setattr sched_setparam sched_setscheduler seccomp semctl semop semtimedop set_mempolicy "
               "set_robust_list set_thread_area set_tid_address set_tls set_domainname set_fsgid setfsgid32 "
               "setfsuid setfsuid32 setgid setgid32 sethae sethostimer setitimer setns setpgid setpgrp setpriority "
               "setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit "
               "setsid setsockopt settimeofday setuid setuid32 setup setxattr shmat shmctl shmdt sigaction "
               "sigaltstack subpage_prot swapcontext switch_endian sys_debug_setcontext timer_settime "
               "timerfd_settime truncate truncate64 umask utime utimesat utimes write writev xtensa"},
    {"connection", "accept accept4 connect mq_timedreceive mq_timedsend msgrcv msgsnd pidfd_send_signal recv "
                   "recvfrom recvmsg recvmmsg rt_tgsigqueueinfo send sendfile sendfile64 sendmmsg sendmsg sendto "
                   "signal signalfd signalfd4 socket socketcall socketpair syscall"},
    {"creation", "add_key clone clone2 clone3 copy_file_range creat create_module dup dup2 dup3 epoll_create "
                 "epoll_create1 eventfd eventfd2 fdatasync fork fsmount fsync init_module inotify_add_watch "
                 "inotify_init inotify_init1 kexec_file_load kexec_load landlock_add_rule landlock_create_ruleset "
                 "link linkat memfd_create memfd_secret mkdir mkdirat mknod mknodat mount mq_notify mq_open msync "
                 "pidfd_getfd pipe pipe2 remap_file_pages splice spu_create symlink symlinkat sync sync_file_range "
                 "sync_file_range2 syncfs tee timer_create timerfd_create vfork vmsplice"},
    {"deletion", "cacheflush delete_module fremovexattr inotify_rm_watch io_destroy lremovexattr mq_unlink "
                 "oldumount removexattr riscv_flush_icache rmdir spill timer_delete umount unlink unlinkat unshare"},
    {"end", "exit exit_group io_cancel kill shutdown swapoff tgkill tkill vhangup"},
    {"group", "fanotify_init fanotify_mark setgroups setgroups32"},
    {"installation", "utrap_install"},
    {"protocol", "ipc"},
    {"start", "execve execveat execv io_uring_enter perf_event_open spu_run swapon"},
    {"user", "userfaultfd usr26 usr32"},
};

bool iequals(string_view a, string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return (x >= 'A' && x <= 'Z' ? x + 32 : x) == y; });
}

string_view event_type(string_view syscall) {
  static constexpr string_view kAllowed[] = {"access", "admin", "allowed", "change", "connection", "creation",
                                             "deletion", "denied", "end", "error", "group", "indicator", "info",
                                             "installation", "protocol", "start", "user"};
  for (string_view a : kAllowed) {
    if (iequals(syscall, a)) return syscall;
  }
  // Built once: every syscall name with its type, the first list naming it winning.
  static const std::vector<std::pair<string_view, string_view>> table = [] {
    std::vector<std::pair<string_view, string_view>> t;
    for (const auto& [type, names] : kEventTypes) {
      for (std::size_t p = 0; p < names.size();) {
        std::size_t e = names.find(' ', p);
        if (e == string_view::npos) e = names.size();
        t.emplace_back(names.substr(p, e - p), type);
        p = e + 1;
      }
    }
    std::ranges::stable_sort(t, {}, &std::pair<string_view, string_view>::first);
    return t;
  }();
  auto it = std::ranges::lower_bound(table, syscall, {}, &std::pair<string_view, string_view>::first);
  return it != table.end() && it->first == syscall ? it->second : "info";
}

string_view event_category(string_view c) {
  static constexpr string_view kAllowed[] = {"api", "authentication", "configuration", "database", "driver",
                                             "email", "file", "host", "iam", "intrusion_detection", "library",
                                             "malware", "network", "package", "process", "registry", "session",
                                             "threat", "vulnerability", "web"};
  for (string_view a : kAllowed) {
    if (iequals(c, a)) return c;
  }
  if (c == "time" || c == "scheduler") return "configuration";
  if (c == "system" || c == "memory" || c == "sleep" || c == "wait" || c == "internal") return "host";
  if (c == "ipc" || c == "net" || c == "signal") return "network";
  if (c == "user") return "session";
  return "process";
}

// Falco priority -> ECS event.severity (Elastic's 21/47/73/99 scale).
int ecs_severity(Priority p) {
  switch (p) {
    case Priority::Debug:
    case Priority::Informational: return 21;
    case Priority::Notice:
    case Priority::Warning: return 47;
    case Priority::Error: return 73;
    case Priority::Critical:
    case Priority::Alert:
    case Priority::Emergency: return 99;
  }
  return 47;
}

bool digits_at(string_view s, std::size_t i, std::size_t n) {
  if (i + n > s.size()) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.begin() + static_cast<std::ptrdiff_t>(i + n),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// The first match of the pipeline's /T\d{4}/ (sub = false) or /T\d{4}.\d{3}/ (sub = true) in a tag.
string_view mitre_match(string_view tag, bool sub) {
  for (std::size_t i = 0; i < tag.size(); ++i) {
    if (tag[i] != 'T' || !digits_at(tag, i + 1, 4)) continue;
    if (!sub) return tag.substr(i, 5);
    const std::size_t p = i + 5;
    if (p >= tag.size()) continue;
    const auto lead = static_cast<unsigned char>(tag[p]);
    const std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    const string_view ch = tag.substr(p, n);
    // Java's '.' matches one code point except line terminators.
    if (ch == "\n" || ch == "\r" || ch == "\xC2\x85" || ch == "\xE2\x80\xA8" || ch == "\xE2\x80\xA9") continue;
    if (digits_at(tag, p + n, 3)) return tag.substr(i, 5 + n + 3);
  }
  return {};
}

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
  enum class K : std::uint8_t { Val, Str1, Args, Env, Falco } k = K::Val;
  Value v;             // Val; Args: the executable
  string_view text;    // Str1: the one string; Args/Env: the text to split
};

struct Leaf {
  string_view path;
  Value v;
};

class Writer {
 public:
  Writer(const Alert& a, const EcsOptions& o, std::string& out) : a_(a), o_(o), out_(out) {}
  void run();

 private:
  const Value* s(Slot x) const { return slot_[x]; }
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

  const Alert& a_;
  const EcsOptions& o_;
  std::string& out_;
  std::array<const Value*, kSlots> slot_{};
  std::vector<Member> members_;
  std::vector<Leaf> leaves_;
  std::string ts_, iso_, scratch_;
  char uid_[32] = {};
  Value uid_value_;
  const Value* uid_src_ = nullptr;  // the user.uid field converted into uid_value_
};

void Writer::map_ecs() {
  add("event.kind", Value::string("alert"));
  if (o_.preserve_original) add("event.original", Value::string(a_.json()));
  add1("event.category", is_str(s(kEvtCategory)) ? event_category(s(kEvtCategory)->text) : "process");
  add1("event.type", is_str(s(kEvtType)) ? event_type(s(kEvtType)->text) : "info");
  if (is_str(s(kEvtRes)) && s(kEvtRes)->text == "SUCCESS") {
    add("event.outcome", Value::string("success"));
  } else if (present(s(kEvtRes)) && s(kEvtFailed) && s(kEvtFailed)->kind == Value::Kind::Bool &&
             s(kEvtFailed)->boolean) {
    add("event.outcome", Value::string("failure"));
  }
  add("event.severity", Value::integer(ecs_severity(a_.priority)));
  add("event.sequence", s(kEvtNum));
  if (!a_.source.empty()) add("event.provider", Value::string(a_.source));
  if (!a_.rule.empty()) {
    add("rule.name", Value::string(a_.rule));
    add("message", Value::string(a_.rule));
  }
  for (auto [path, sub] : {std::pair{"threat.technique.id", false}, {"threat.technique.subtechnique.id", true}}) {
    for (string_view tag : a_.tags) {
      if (string_view m = mitre_match(tag, sub); !m.empty()) {
        add1(path, m);
        break;
      }
    }
  }
  // @timestamp: the syscall's time (evt.time.iso8601, evt.time, evt.rawtime), else the alert's.
  auto ts = time_of(s(kEvtIso));
  if (!ts && !s(kEvtIso)) ts = time_of(s(kEvtTime));
  if (!ts && !s(kEvtIso) && !s(kEvtTime)) ts = time_of(s(kEvtRawtime));
  ts_ = format_rfc3339_ms(ts ? *ts / 1000000 * 1000000 : a_.time_ns);
  add("@timestamp", Value::string(ts_));
  if (!a_.hostname.empty()) {
    for (string_view p : {"observer.hostname", "host.name"}) add(p, Value::string(a_.hostname));
    add1("related.hosts", a_.hostname);
  }
  add("observer.type", Value::string("sensor"));
  add("observer.vendor", Value::string("sysdig"));
  add("observer.product", Value::string("falco"));
  // process.*
  add("process.executable", s(kExepath));
  add("process.parent.executable", s(kPexepath));
  add("process.name", s(kName));
  add("process.parent.name", s(kPname));
  if (s(kExepath) && !s(kExepath)->is_null() && is_str(s(kArgs))) {
    members_.push_back({"process.args", Member::K::Args, *s(kExepath), s(kArgs)->text});
  }
  add("process.command_line", s(kCmdline));
  add("process.parent.command_line", s(kPcmdline));
  add("process.args_count", s(kCmdnargs));
  if (is_str(s(kEnv))) members_.push_back({"process.env_vars", Member::K::Env, {}, s(kEnv)->text});
  add("process.working_directory", s(kCwd));
  add("process.pid", s(kPid));
  add("process.parent.pid", s(kPpid));
  add("process.vpid", s(kVpid));
  add("process.parent.vpid", s(kPvpid));
  add("process.session_leader.pid", s(kSid));
  add("process.session_leader.name", s(kSname));
  add("process.session_leader.executable", s(kSidExe));
  add("process.group_leader.vpid", s(kVpgid));
  add("process.group_leader.name", s(kVpgidName));
  add("process.group_leader.executable", s(kVpgidExe));
  if (const Value* d = s(kDuration); d && (d->kind == Value::Kind::Int || d->kind == Value::Kind::Uint)) {
    add("process.uptime", d);
  } else if (is_str(d)) {
    std::int64_t n = 0;
    const auto r = std::from_chars(d->text.data(), d->text.data() + d->text.size(), n);
    if (r.ec == std::errc() && r.ptr == d->text.data() + d->text.size()) add("process.uptime", Value::integer(n));
  }
  add("process.parent.uptime", s(kPpidDuration));
  add("process.start", s(kPidTs));
  add("process.parent.start", s(kPpidTs));
  add("process.session_leader.same_as_process", s(kSidLeader));
  add("process.group_leader.same_as_process", s(kVpgidLeader));
  add("process.thread.capabilities.permitted", s(kCapPerm));
  add("process.thread.capabilities.effective", s(kCapEff));
  add("process.thread.id", s(kTid));
  if (const Value* u = s(kUid); u && (u->kind == Value::Kind::Int || u->kind == Value::Kind::Uint ||
                                      u->kind == Value::Kind::Double || u->kind == Value::Kind::Bool)) {
    // The pipeline converts user.uid to a string, in falco.output_fields too.
    const std::string t = u->to_text();
    const std::size_t n = std::min(t.size(), sizeof uid_);
    std::copy_n(t.data(), n, uid_);
    uid_value_ = Value::string(string_view(uid_, n));
    uid_src_ = u;
    slot_[kUid] = &uid_value_;
  }
  add("process.user.id", s(kUid));
  add("process.user.name", s(kUserName));
  add("process.group.id", s(kGid));
  add("process.group.name", s(kGname));
  // container.*, host.ip
  add("container.id", s(kCId));
  add("container.name", s(kCName));
  add("container.image.name", s(kCImage));
  add("container.runtime", s(kCType));
  add("container.security_context.privileged", s(kCPriv));
  add("container.image.hash.all", s(kCDigest));
  if (present(s(kCIp))) add1("host.ip", is_str(s(kCIp)) ? s(kCIp)->text : (scratch_ = s(kCIp)->to_text()));
  // file.*
  if (is_str(s(kFdType)) && (s(kFdType)->text == "file" || s(kFdType)->text == "directory") && is_str(s(kFdName))) {
    add("file.path", s(kFdName));
    add("file.type", s(kFdType));
  }
  add("file.directory", s(kDirectory));
  add("file.name", s(kFilename));
  add("file.inode", s(kIno));
  // client/server/source/destination from the fd's endpoints
  struct Ep { string_view ip, address, port, domain; Slot sip, sport, sname; };
  static constexpr Ep kEps[] = {
      {"client.ip", "client.address", "client.port", "client.domain", kCip, kCport, kCipName},
      {"server.ip", "server.address", "server.port", "server.domain", kSip, kSport, kSipName},
      {"source.ip", "source.address", "source.port", "source.domain", kLip, kLport, kLipName},
      {"destination.ip", "destination.address", "destination.port", "destination.domain", kRip, kRport, kRipName}};
  for (const Ep& e : kEps) {
    if (is_str(s(e.sip)) && valid_ip(s(e.sip)->text)) {
      add(e.ip, s(e.sip));
      add(e.address, s(e.sip));
    }
    add(e.port, s(e.sport));
    add(e.domain, s(e.sname));
  }
  // orchestrator.*
  add("orchestrator.namespace", s(kNs));
  add("orchestrator.resource.name", s(kPodName));
  add("orchestrator.resource.id", s(kPodUid));
  add("orchestrator.resource.label", s(kPodLabels));
  if (is_str(s(kPodIp)) && valid_ip(s(kPodIp)->text)) add("orchestrator.resource.ip", s(kPodIp));
  if (s(kPodName) && !s(kPodName)->is_null()) {
    add("orchestrator.resource.type", Value::string("pod"));
    add("orchestrator.type", Value::string("kubernetes"));
  }
  members_.push_back({"falco", Member::K::Falco, {}, {}});
}

// splitOnToken(" ") keeps every empty piece; Java's split("\\s+") keeps a leading one and drops trailing ones.
void append_split(std::string& out, string_view text, bool java_whitespace) {
  auto ws = [&](char c) {
    return java_whitespace ? (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') : c == ' ';
  };
  std::vector<string_view> parts;
  for (std::size_t p = 0;;) {
    std::size_t e = p;
    while (e < text.size() && !ws(text[e])) ++e;
    parts.push_back(text.substr(p, e - p));
    if (e == text.size()) break;
    p = e + 1;
    if (java_whitespace) {
      while (p < text.size() && ws(text[p])) ++p;
      if (p == text.size()) break;
    }
  }
  if (java_whitespace && parts.size() > 1) {
    while (!parts.empty() && parts.back().empty()) parts.pop_back();
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, parts[i]);
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
      append_split(out_, m.text, false);
      out_.push_back(']');
      break;
    case Member::K::Env:
      out_.push_back('[');
      append_split(out_, m.text, true);
      out_.push_back(']');
      break;
    case Member::K::Falco: write_falco(); break;
  }
}

void Writer::write_output_fields() {
  leaves_.clear();
  const bool shaped = a_.has_output_fields;
  for (const Field& f : a_.fields) {
    if (shaped && f.top_level) continue;
    string_view path = f.name;
    for (const auto& [from, to] : kRenames) {
      if (from == path) path = to;
    }
    if (listed(path, kAlwaysRemoved) || (!o_.preserve_falco_fields && listed(path, kMappedRemoved))) continue;
    Value v = f.value;
    if (&f.value == uid_src_) {
      v = uid_value_;
    } else if (&f.value == s(kEvtIso) && v.kind == Value::Kind::Int) {
      v = Value::integer(v.i / 1000000);  // the pipeline keeps milliseconds
    } else if (&f.value == s(kEvtIso) && v.kind == Value::Kind::String) {
      if (auto ns = parse_rfc3339_ns(v.text)) v = Value::string(iso_ = format_rfc3339_ms(*ns));
    }
    leaves_.push_back({path, v});
  }
  std::ranges::stable_sort(leaves_, path_less, &Leaf::path);
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
    for (std::size_t i = 0; i < a_.fields.size(); ++i) {
      const Field& f = a_.fields[i];
      if (!f.top_level || std::ranges::find(kTaken, f.name) != std::end(kTaken)) continue;
      if (std::any_of(a_.fields.begin(), a_.fields.begin() + static_cast<std::ptrdiff_t>(i),
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
  for (const Field& f : a_.fields) {
    if (a_.has_output_fields && f.top_level) continue;
    auto it = std::ranges::lower_bound(kSlotNames, f.name, {}, &std::pair<string_view, Slot>::first);
    if (it != std::end(kSlotNames) && it->first == f.name && !slot_[it->second]) slot_[it->second] = &f.value;
  }
  members_.reserve(96);
  map_ecs();
  std::ranges::stable_sort(members_, path_less, &Member::path);
  out_.push_back('{');
  Nest nest(out_);
  for (const Member& m : members_) {
    nest.leaf(m.path);
    write_member(m);
  }
  nest.close();
  if (is_str(s(kCMounts))) write_mounts(s(kCMounts)->text);
  out_.push_back('}');
}

}  // namespace

void EcsFormatter::format(const Alert& alert, std::string& out) const { Writer(alert, opt_, out).run(); }

}  // namespace saker
