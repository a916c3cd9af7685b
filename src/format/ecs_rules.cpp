#include "format/ecs_rules.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/json_text.hpp"

namespace saker::ecs_rules {
namespace {

using std::string_view;

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

bool digits_at(string_view s, std::size_t i, std::size_t n) {
  if (i + n > s.size()) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.begin() + static_cast<std::ptrdiff_t>(i + n),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

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
int severity(Priority p) {
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
  // Java returns the text itself when nothing matched, else drops every trailing empty piece.
  if (java_whitespace && text.find_first_of(" \t\n\v\f\r") != string_view::npos) {
    while (!parts.empty() && parts.back().empty()) parts.pop_back();
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, parts[i]);
  }
}

}  // namespace saker::ecs_rules
