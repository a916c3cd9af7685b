#include "config/file_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace saker {

FileWatch::~FileWatch() { close_fd(); }

void FileWatch::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  dirs_.clear();
}

void FileWatch::watch(const std::vector<std::string>& files) {
  close_fd();
  pending_.clear();
  if (files.empty()) return;
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) {
    spdlog::warn("watch_files: cannot watch files ({}); reload with SIGHUP", std::strerror(errno));
    return;
  }
  for (const std::string& f : files) {
    std::error_code ec;
    const std::filesystem::path p = std::filesystem::absolute(f, ec);
    const std::string dir = p.parent_path().string(), name = p.filename().string();
    if (ec || name.empty()) continue;
    Dir* d = nullptr;
    for (Dir& x : dirs_) {
      if (x.path == dir) d = &x;
    }
    if (!d) {
      const int wd = inotify_add_watch(fd_, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB);
      if (wd < 0) {
        spdlog::warn("watch_files: cannot watch {} ({}); reload with SIGHUP after changing files there", dir,
                     std::strerror(errno));
        continue;
      }
      dirs_.push_back(Dir{wd, dir, {}});
      d = &dirs_.back();
    }
    d->names.insert(name);
  }
}

bool FileWatch::poll(std::chrono::milliseconds settle, std::vector<std::string>& changed) {
  if (fd_ < 0) return false;
  alignas(inotify_event) char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->len == 0) continue;
      const std::string name(ev->name);
      for (const Dir& d : dirs_) {
        if (d.wd == ev->wd && d.names.count(name)) {
          pending_.insert(d.path + "/" + name);
          last_ = std::chrono::steady_clock::now();
        }
      }
    }
  }
  if (pending_.empty() || std::chrono::steady_clock::now() - last_ < settle) return false;
  changed.assign(pending_.begin(), pending_.end());
  pending_.clear();
  return true;
}

}  // namespace saker
