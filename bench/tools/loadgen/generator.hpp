#pragma once
// Deterministic Falco alert generator: the same seed gives the same byte stream on every machine
// (own PRNG, no std distributions). Alerts have Falco's JSON shape and the real rules' names,
// priorities, tags and output templates; fields agree with each other within an alert.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "falco_json.hpp"
#include "pools.hpp"
#include "rng.hpp"
#include "rules.hpp"

namespace saker::loadgen {

struct GeneratorOptions {
  std::uint64_t seed = 1;
  unsigned hostile_per_mille = 0;  // share of alerts whose attacker-controlled fields are hostile
  std::int64_t start_ns = 1748851200LL * 1000000000LL;  // 2025-06-02T08:00:00Z
};

class AlertGenerator {
 public:
  AlertGenerator(std::vector<FalcoRule> rules, GeneratorOptions opt)
      : rules_(std::move(rules)), opt_(opt), rng_(opt.seed), now_ns_(opt.start_ns) {
    std::uint64_t k = opt.seed ^ 0x5A4B3C2D1E0F1234ULL;
    uuid_key_ = Rng::splitmix(k) & kMask62;
    build_priority_buckets();
    build_world();
  }

  // Appends one alert (no trailing newline); returns its priority.
  Priority append(std::string& out) {
    const std::size_t rule_index = pick_rule();
    const FalcoRule& rule = rules_[rule_index];
    now_ns_ += static_cast<std::int64_t>(rng_.below(2000000));  // up to 2 ms between alerts
    roll_scene(rule, rule_index);

    fields_.clear();
    for (const std::string& f : rule.fields) fields_.push_back({f, resolve(f)});
    auto add_field = [&](std::string_view f) {
      if (std::none_of(fields_.begin(), fields_.end(), [&](const auto& p) { return p.first == f; })) {
        fields_.push_back({std::string(f), resolve(f)});
      }
    };
    for (std::string_view f : kAppendedFields) add_field(f);
    if (in_k8s_) {
      for (std::string_view f : kContextFields) add_field(f);
    }
    FieldValue evt_time;
    evt_time.kind = FieldValue::Kind::Int;
    evt_time.num = now_ns_;
    fields_.push_back({"evt.time", evt_time});

    out += "{\"uuid\":\"";
    append_uuid(out);
    out += "\",\"output\":\"";
    std::string& text = scratch_;
    text.clear();
    append_time(text, now_ns_, true);
    text += ": ";
    text += to_string(rule.priority);
    text += ' ';
    for (const TemplatePiece& p : rule.pieces) {
      if (p.is_field) {
        append_text(text, value_of(p.text));
      } else {
        text += p.text;
      }
    }
    for (std::size_t i = 0; i < kAppendedFields.size(); ++i) {
      text += ' ';
      text += kAppendedLabels[i];
      text += '=';
      append_text(text, value_of(kAppendedFields[i]));
    }
    append_json_escaped(out, text);
    out += "\",\"priority\":\"";
    out += to_string(rule.priority);
    out += "\",\"rule\":\"";
    append_json_escaped(out, rule.name);
    out += "\",\"time\":\"";
    append_time(out, now_ns_, false);
    out += "\",\"output_fields\":{";
    std::sort(fields_.begin(), fields_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    bool first = true;
    for (const auto& [name, value] : fields_) {
      if (!first) out += ',';
      first = false;
      out += '"';
      append_json_escaped(out, name);
      out += "\":";
      append_json(out, value);
    }
    out += "},\"source\":\"syscall\",\"tags\":[";
    for (std::size_t i = 0; i < rule.tags.size(); ++i) {
      if (i) out += ',';
      out += '"';
      append_json_escaped(out, rule.tags[i]);
      out += '"';
    }
    out += "],\"hostname\":\"";
    append_json_escaped(out, hosts_[host_]);
    out += "\"}";
    ++index_;
    return rule.priority;
  }

 private:
  static constexpr std::uint64_t kMask62 = (1ULL << 62) - 1;
  // Falco's append_output for container and Kubernetes context, with the labels Falco's own rules use.
  // Falco's append_output puts container_id and container_name into the text; the image and Kubernetes
  // context travel only in output_fields (extra fields), and only when there is one.
  static constexpr std::array<std::string_view, 2> kAppendedFields = {"container.id", "container.name"};
  static constexpr std::array<std::string_view, 2> kAppendedLabels = {"container_id", "container_name"};
  static constexpr std::array<std::string_view, 3> kContextFields = {"container.image.repository", "k8s.ns.name",
                                                                     "k8s.pod.name"};

  struct Workload {
    std::size_t app;
    std::string container_id, pod;
  };

  // Mix "mostly Notice/Warning": Informational 14 %, Notice 45 %, Warning 30 %, Error 6 %, Critical 5 %
  // -> 41 % Warning or above, as in the peers' reference measurement.
  void build_priority_buckets() {
    const std::array<std::pair<Priority, unsigned>, 5> mix = {{{Priority::Informational, 140},
                                                               {Priority::Notice, 450},
                                                               {Priority::Warning, 300},
                                                               {Priority::Error, 60},
                                                               {Priority::Critical, 50}}};
    for (const auto& [prio, weight] : mix) {
      Bucket b;
      b.weight = weight;
      double total = 0;
      for (std::size_t i = 0; i < rules_.size(); ++i) {
        if (rules_[i].priority != prio) continue;
        // A few rules fire most of the time: weight the n-th rule of a priority by 1/(n+1).
        total += 1.0 / static_cast<double>(b.rules.size() + 1);
        b.rules.push_back(i);
        b.cumulative.push_back(total);
      }
      if (!b.rules.empty()) buckets_.push_back(std::move(b));
    }
    // Priorities with no rule (a custom TSV) fall back to drawing the remaining buckets.
    for (const Bucket& b : buckets_) bucket_total_ += b.weight;
  }

  void build_world() {
    Rng w(opt_.seed ^ 0xC0FFEEULL);
    for (int i = 0; i < 24; ++i) {
      hosts_.push_back(fmt::format("ip-10-0-{}-{}", w.below(16), 10 + w.below(240)));
    }
    for (int i = 0; i < 8; ++i) hosts_.push_back(fmt::format("gke-prod-1-{:04x}", w.next() & 0xFFFF));
    static constexpr std::string_view kPodChars = "bcdfghjklmnpqrstvwxz2456789";
    for (int i = 0; i < 160; ++i) {
      Workload wl;
      wl.app = w.below(kApps.size());
      wl.container_id = fmt::format("{:012x}", w.next() & 0xFFFFFFFFFFFFULL);
      std::string suffix;
      for (int c = 0; c < 5; ++c) suffix += kPodChars[w.below(kPodChars.size())];
      wl.pod = fmt::format("{}-{:x}-{}", kApps[wl.app].app, 0x50000 + w.below(0xAFFFF), suffix);
      workloads_.push_back(std::move(wl));
    }
  }

  std::size_t pick_rule() {
    std::uint64_t r = rng_.below(bucket_total_);
    const Bucket* b = &buckets_.back();
    for (const Bucket& candidate : buckets_) {
      if (r < candidate.weight) {
        b = &candidate;
        break;
      }
      r -= candidate.weight;
    }
    const double x = static_cast<double>(rng_.next() >> 11) * 0x1.0p-53 * b->cumulative.back();
    const auto it = std::upper_bound(b->cumulative.begin(), b->cumulative.end(), x);
    return b->rules[std::min<std::size_t>(static_cast<std::size_t>(it - b->cumulative.begin()), b->rules.size() - 1)];
  }

  static Family family_for(const FalcoRule& rule) {
    std::string n = rule.name;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto has = [&](std::string_view k) { return n.find(k) != std::string::npos; };
    if (has("shell") || has("terminal")) return Family::Shell;
    if (has("miner") || has("mining") || has("crypto")) return Family::Miner;
    if (has("log")) return Family::LogTamper;
    if (has("package") || has("pip")) return Family::Package;
    if (has("k8s") || has("kube") || has("service account") || has("serviceaccount") || has("metadata")) return Family::Kube;
    if (has("netcat")) return Family::Netcat;
    if (has("network") || has("outbound") || has("inbound") || has("connection") || has("ssh") ||
        has("socket") || has("egress") || has("port")) {
      return Family::Network;
    }
    if (has("sensitive") || has("read") || has("shadow") || has("credential") || has("private")) return Family::Reader;
    if (has("write") || has("modify") || has("create") || has("binary") || has("rename") || has("delete") ||
        has("remove") || has("drop")) {
      return Family::Writer;
    }
    return Family::Generic;
  }

  const ProcEntry& pick_process(Family f) {
    switch (f) {
      case Family::Shell: return rng_.pick(kShells);
      case Family::Reader: return rng_.pick(kReaders);
      case Family::Network: return rng_.pick(kNetwork);
      case Family::Netcat: return rng_.pick(kNetcat);
      case Family::Package: return rng_.pick(kPackage);
      case Family::Writer: return rng_.pick(kWriters);
      case Family::LogTamper: return rng_.pick(kLogTamper);
      case Family::Miner: return rng_.pick(kMiners);
      case Family::Kube: return rng_.pick(kKube);
      default: return rng_.pick(kGeneric);
    }
  }

  std::string_view pick_file(Family f) {
    switch (f) {
      case Family::Reader: return rng_.pick(kSensitiveFiles);
      case Family::Writer: return rng_.chance(700) ? rng_.pick(kBinaryFiles) : rng_.pick(kOtherFiles);
      case Family::LogTamper: return rng_.pick(kLogFiles);
      default: return rng_.chance(300) ? rng_.pick(kSensitiveFiles) : rng_.pick(kOtherFiles);
    }
  }

  // Chooses who did what for this alert; resolve() reads the scene.
  void roll_scene(const FalcoRule& rule, std::size_t rule_index) {
    if (families_.size() != rules_.size()) {
      families_.resize(rules_.size());
      for (std::size_t i = 0; i < rules_.size(); ++i) families_[i] = family_for(rules_[i]);
    }
    const Family fam = families_[rule_index];
    host_ = rng_.below(hosts_.size());
    in_container_ = rng_.chance(800);
    in_k8s_ = in_container_ && rng_.chance(750);
    workload_ = rng_.below(workloads_.size());
    user_ = rng_.chance(600) ? 0 : rng_.below(kUsers.size());
    proc_ = &pick_process(fam);
    cmdline_ = proc_->cmdlines[rng_.below(3)];
    parent_ = &kParents[in_container_ ? rng_.below(kParents.size()) : 2 + rng_.below(kParents.size() - 2)];
    file_ = pick_file(fam);
    remote_ = rng_.below(kRemoteIps.size());
    lport_ = 32768 + static_cast<long>(rng_.below(28000));
    pid_ = 1000 + static_cast<long>(rng_.below(4000000));
    tty_ = rng_.chance(850) ? 0 : 34816;
    flags_ = rng_.below(4);
    evt_type_ = evt_type_for(rule, fam);
    hostile_ = opt_.hostile_per_mille > 0 && rng_.chance(opt_.hostile_per_mille);
    hostile_cmdline_.clear();
    hostile_file_.clear();
    if (hostile_) {
      hostile_cmdline_ = rng_.pick(kHostileStrings);
      hostile_file_ = rng_.chance(500) ? std::string(rng_.pick(kHostileStrings)) : std::string();
      if (rng_.chance(100)) hostile_cmdline_ = std::string(3000, 'A') + hostile_cmdline_;  // long tail
    }
  }

  std::string_view evt_type_for(const FalcoRule& rule, Family fam) {
    auto names = [&](std::string_view f) { return std::find(rule.fields.begin(), rule.fields.end(), f) != rule.fields.end(); };
    if (names("fd.l4proto") || names("fd.rport") || names("fd.sip")) {
      static constexpr std::array<std::string_view, 3> k = {"connect", "accept", "sendto"};
      return rng_.pick(k);
    }
    // Rules about a new process print exe_flags=%evt.arg.flags.
    if (rule.output_template.find("exe_flags=") != std::string::npos || fam == Family::Shell ||
        fam == Family::Package || fam == Family::Miner || fam == Family::Network) {
      return "execve";
    }
    if (fam == Family::Reader) return "openat";
    if (names("fd.name")) {
      static constexpr std::array<std::string_view, 4> k = {"openat", "openat", "open", "unlinkat"};
      return rng_.pick(k);
    }
    return "execve";
  }

  static FieldValue str(std::string_view s) {
    FieldValue v;
    v.kind = FieldValue::Kind::Str;
    v.str = s;
    return v;
  }
  static FieldValue num(std::int64_t n) {
    FieldValue v;
    v.kind = FieldValue::Kind::Int;
    v.num = n;
    return v;
  }

  FieldValue resolve(std::string_view f) {
    const UserEntry& user = kUsers[user_];
    const AppImage& app = kApps[workloads_[workload_].app];
    const bool net = evt_type_ == "connect" || evt_type_ == "accept" || evt_type_ == "sendto";
    std::string_view cmdline = hostile_ ? std::string_view(hostile_cmdline_) : cmdline_;
    if (f == "container.id") return str(in_container_ ? std::string_view(workloads_[workload_].container_id) : "host");
    if (f == "container.name") return str(in_container_ ? app.app : "host");
    if (f == "container.image.repository") return in_container_ ? str(app.repository) : FieldValue{};
    if (f == "container.image.tag") return in_container_ ? str(app.tag) : FieldValue{};
    if (f == "k8s.ns.name") return in_k8s_ ? str(app.ns) : FieldValue{};
    if (f == "k8s.pod.name") return in_k8s_ ? str(workloads_[workload_].pod) : FieldValue{};
    if (f == "container.start_ts") return num(now_ns_ - static_cast<std::int64_t>(3600000000000LL + pid_ * 1000000LL));
    if (f == "container.mounts") return str("/var/lib/kubelet/pods:/host/pods:ro:false:rprivate,/proc:/host/proc:ro:false:rprivate");
    if (f == "evt.type") return str(evt_type_);
    if (f == "evt.res") return str(rng_.chance(800) ? "SUCCESS" : "EPERM");
    if (f == "evt.arg.flags") return str(evt_type_ == "execve" ? kExeFlags[flags_] : kOpenFlags[flags_]);
    if (f == "evt.args") return str(fmt::format("fd={}(<f>{}) name={} flags=1(O_RDONLY)", 3 + flags_, file_, file_));
    if (f == "evt.arg.fd") return num(3 + static_cast<std::int64_t>(flags_));
    if (f == "evt.arg.uid") return num(user.uid);
    if (f == "evt.arg.mode") return str("0755");
    if (f == "evt.arg.cmd") return str("BPF_PROG_LOAD");
    if (f.starts_with("evt.arg.")) return str(hostile_file_.empty() ? file_ : std::string_view(hostile_file_));
    if (f == "user.name" || f == "user.loginname") return str(user.name);
    if (f == "user.uid") return num(user.uid);
    if (f == "user.loginuid") return num(user.loginuid);
    if (f == "group.name") return str(user.group);
    if (f == "group.gid") return num(user.uid);
    if (f == "proc.name" || f == "proc.exe") return str(proc_->name);
    if (f == "proc.exepath" || f == "proc.aexepath[0]") return str(proc_->exepath);
    if (f == "proc.cmdline") return str(cmdline);
    if (f == "proc.args") {
      const auto sp = cmdline.find(' ');
      return str(sp == std::string_view::npos ? std::string_view() : cmdline.substr(sp + 1));
    }
    if (f == "proc.pid" || f == "proc.vpid") return num(pid_);
    if (f == "proc.tty") return num(tty_);
    if (f == "proc.cwd") return str(in_container_ ? "/app/" : "/root/");
    if (f == "proc.env") return str(fmt::format("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME={} HOME=/root", hosts_[host_]));
    if (f == "proc.pname" || f == "proc.aname[1]") return str(parent_->name);
    if (f == "proc.pexe" || f == "proc.pexepath" || f == "proc.aexepath[1]") return str(parent_->exepath);
    if (f == "proc.pcmdline") return str(parent_->cmdline);
    if (f == "proc.sname") return str(in_container_ ? "containerd-shim" : "sshd");
    if (f.starts_with("proc.aname[") || f.starts_with("proc.aexepath[")) {
      const int level = f[f.size() - 2] - '0';
      static constexpr std::array<std::string_view, 3> kContainerChain = {"runc", "containerd-shim", "systemd"};
      static constexpr std::array<std::string_view, 3> kHostChain = {"sshd", "sshd", "systemd"};
      const auto& chain = in_container_ ? kContainerChain : kHostChain;
      if (level < 2 || level - 2 >= static_cast<int>(chain.size())) return FieldValue{};
      return str(f.starts_with("proc.aname[") ? chain[level - 2] : std::string_view("/usr/bin/containerd-shim-runc-v2"));
    }
    if (f.starts_with("proc.exe_ino")) return num(now_ns_ - 86400000000000LL * (1 + flags_));
    if (f == "thread.cap_permitted" || f == "thread.cap_effective") return str("CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_SETUID CAP_SETGID CAP_NET_RAW CAP_SYS_ADMIN");
    if (f == "fd.type") return str(net ? "ipv4" : "file");
    if (f == "fd.l4proto") return str(kRemotePorts[remote_] == 53 ? "udp" : "tcp");
    if (f == "fd.lport" || f == "fd.cport") return num(lport_);
    if (f == "fd.rport" || f == "fd.sport") return num(kRemotePorts[remote_]);
    if (f == "fd.lip" || f == "fd.cip") return str(fmt::format("10.0.{}.{}", host_ % 16, 10 + host_));
    if (f == "fd.rip" || f == "fd.sip") return str(kRemoteIps[remote_]);
    if (f.ends_with(".name") && f.starts_with("fd.") && f != "fd.name") return str(kRemoteNames[remote_]);
    if (f == "fd.name" || f == "fd.nameraw") {
      if (net) return str(fmt::format("10.0.{}.{}:{}->{}:{}", host_ % 16, 10 + host_, lport_, kRemoteIps[remote_], kRemotePorts[remote_]));
      return str(hostile_file_.empty() ? file_ : std::string_view(hostile_file_));
    }
    return FieldValue{};  // a field the world does not model: Falco prints <NA> and writes null
  }

  const FieldValue& value_of(std::string_view name) const {
    static const FieldValue kNull;
    for (const auto& [n, v] : fields_) {
      if (n == name) return v;
    }
    return kNull;
  }

  // Version-4 layout; the low 62 bits are a bijection of the alert's index, so uuids never repeat in a run.
  void append_uuid(std::string& out) {
    std::uint64_t hi = rng_.next();
    hi = (hi & ~0xF000ULL) | 0x4000ULL;
    std::uint64_t lo = (index_ ^ uuid_key_) & kMask62;
    lo ^= lo >> 31;
    lo = (lo * 0x9E3779B97F4A7C15ULL) & kMask62;
    lo ^= lo >> 29;
    lo = (lo * 0xBF58476D1CE4E5B9ULL) & kMask62;
    lo ^= lo >> 32;
    lo |= 0x8000000000000000ULL;  // RFC 9562 variant 10
    fmt::format_to(std::back_inserter(out), "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                   hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
  }

  struct Bucket {
    unsigned weight = 0;
    std::vector<std::size_t> rules;
    std::vector<double> cumulative;
  };

  std::vector<FalcoRule> rules_;
  GeneratorOptions opt_;
  Rng rng_;
  std::int64_t now_ns_;
  std::uint64_t uuid_key_ = 0;
  std::uint64_t index_ = 0;
  std::vector<Bucket> buckets_;
  std::uint64_t bucket_total_ = 0;
  std::vector<Family> families_;
  std::vector<std::string> hosts_;
  std::vector<Workload> workloads_;
  std::vector<std::pair<std::string, FieldValue>> fields_;
  std::string scratch_;

  // the scene of the current alert
  std::size_t host_ = 0, workload_ = 0, user_ = 0, remote_ = 0, flags_ = 0;
  bool in_container_ = true, in_k8s_ = true, hostile_ = false;
  const ProcEntry* proc_ = nullptr;
  const ParentEntry* parent_ = nullptr;
  std::string_view cmdline_, file_, evt_type_;
  std::string hostile_cmdline_, hostile_file_;
  long lport_ = 0, pid_ = 0, tty_ = 0;
};

inline bool warning_or_above(Priority p) { return p >= Priority::Warning; }

}  // namespace saker::loadgen
