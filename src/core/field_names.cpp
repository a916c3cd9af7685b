#include "core/field_names.hpp"

#include <algorithm>

namespace saker {

namespace {

// Falco's own classes (falco/userspace/libsinsp filterchecks) and those of the plugins Falco ships rules for.
const std::vector<std::string_view> kClasses = {
    "evt",    "proc",    "thread", "user",      "group",  "fd",     "fdlist", "fs",     "container", "k8s",
    "k8smeta", "mesos",  "span",   "syscall",   "ka",     "jevt",   "ct",     "aws",    "s3",        "ec2",
    "gcp",    "okta",    "github", "k8saudit",  "json",   "cloudtrail", "keycloak", "gitlab", "dummy", "kubernetes",
};

bool word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

bool is_alert_key(std::string_view n) noexcept {
  return n == "rule" || n == "priority" || n == "source" || n == "hostname" || n == "output" || n == "uuid" ||
         n == "time" || n == "tags";
}

bool is_falco_field(std::string_view name) noexcept {
  const auto bracket = name.find('[');
  std::string_view path = name.substr(0, bracket);
  if (bracket != std::string_view::npos && (name.back() != ']' || name.size() - bracket < 2)) return false;
  const auto dot = path.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= path.size()) return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.' ? (path[i - 1] == '.' || i + 1 == path.size()) : !word_char(c)) return false;
  }
  const std::string_view cls = path.substr(0, dot);
  return std::find(kClasses.begin(), kClasses.end(), cls) != kClasses.end();
}

const std::vector<std::string_view>& falco_field_classes() { return kClasses; }

std::string closest_name(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, name.size() / 3) + 1;
  std::vector<std::size_t> prev, cur;
  for (auto c : candidates) {
    prev.resize(c.size() + 1);
    cur.resize(c.size() + 1);
    for (std::size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= name.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (name[i - 1] == c[j - 1] ? 0 : 1)});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) {
      best_d = prev[c.size()];
      best = std::string(c);
    }
  }
  return best;
}

}  // namespace saker
