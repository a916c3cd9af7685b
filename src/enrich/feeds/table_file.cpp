#include "enrich/feeds/table_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace saker {

Result<std::string> read_table_file(const std::string& path, std::uint64_t max_bytes, std::string_view hint) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return make_error("file_unreadable", fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      return make_error("file_too_large", fmt::format("{} is larger than {} bytes{}{}", path, max_bytes,
                                                      hint.empty() ? "" : ": ", hint));
    }
    out.append(buf, n);
  }
  if (std::ferror(f.get())) return make_error("file_unreadable", fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  return out;
}

}  // namespace saker
