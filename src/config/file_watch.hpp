#pragma once
// Notices that files changed: the config file and the files its components loaded (GeoIP databases, inventories,
// threat-intel feeds, certificates), so that `saker run` reloads as on SIGHUP (`watch_files: true`, the default).
// Watches each file's folder with inotify, so an editor's rename-over and a `mv new old` are seen as well as a write
// in place; a folder that cannot be watched is logged once and skipped.
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace saker {

class FileWatch {
 public:
  FileWatch() = default;
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Watches `files` from now on (replacing what was watched); an empty list stops watching.
  void watch(const std::vector<std::string>& files);
  // Reads what happened since the last call without waiting; true once the files changed and then stayed quiet
  // for `settle` (a file written in several steps reloads once, when it is whole). `changed` names the files.
  bool poll(std::chrono::milliseconds settle, std::vector<std::string>& changed);

 private:
  void close_fd();
  int fd_ = -1;
  struct Dir {
    int wd;
    std::string path;
    std::set<std::string> names;  // the watched files in it
  };
  std::vector<Dir> dirs_;
  std::set<std::string> pending_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace saker
