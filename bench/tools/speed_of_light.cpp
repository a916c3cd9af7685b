// The speed of light for saker's benchmark workload: the least a program must do for it, and nothing more.
// TCP (one connection) -> split lines -> simdjson parse -> keep priority >= Warning -> write the line to a file, on
// two threads (one reads and splits, one parses and writes). No config, no limits, no metrics, no durability. Not
// saker: `make bench` runs it beside saker to show how close saker comes (docs/benchmarks.md).
//
//   speed_of_light --listen PORT --out FILE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <simdjson.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace {

struct Chunks {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> q;
  bool done = false;
};

bool keep(std::string_view p) {
  // Falco's priorities at Warning or above.
  return p == "Warning" || p == "Error" || p == "Critical" || p == "Alert" || p == "Emergency" || p == "warning" ||
         p == "error" || p == "critical" || p == "alert" || p == "emergency";
}

void parse_and_write(Chunks& in, int out_fd) {
  simdjson::ondemand::parser parser;
  std::string out;
  simdjson::padded_string line_buf;
  for (;;) {
    std::string chunk;
    {
      std::unique_lock lock(in.mu);
      in.cv.wait(lock, [&] { return !in.q.empty() || in.done; });
      if (in.q.empty()) break;
      chunk = std::move(in.q.front());
      in.q.pop_front();
    }
    out.clear();
    // The chunk holds whole lines; simdjson needs padding after each document: parse from a padded copy.
    const simdjson::padded_string padded(chunk);
    std::string_view all(padded.data(), padded.size());
    std::size_t pos = 0;
    while (pos < all.size()) {
      std::size_t nl = all.find('\n', pos);
      if (nl == std::string_view::npos) nl = all.size();
      const std::string_view line = all.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) continue;
      simdjson::ondemand::document doc;
      const auto room = padded.size() - static_cast<std::size_t>(line.data() - padded.data()) + simdjson::SIMDJSON_PADDING;
      if (parser.iterate(line.data(), line.size(), room).get(doc)) continue;
      std::string_view pri;
      if (doc["priority"].get_string().get(pri)) continue;
      if (keep(pri)) out.append(line).push_back('\n');
    }
    for (std::size_t done = 0; done < out.size();) {
      const ssize_t n = ::write(out_fd, out.data() + done, out.size() - done);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  const char* out_path = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--listen") == 0) port = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--out") == 0) out_path = argv[i + 1];
  }
  if (!port || !out_path) {
    std::fprintf(stderr, "usage: speed_of_light --listen PORT --out FILE\n");
    return 2;
  }
  const int out_fd = ::open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int ls = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (out_fd < 0 || ::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(ls, 16) != 0) {
    std::perror("speed_of_light");
    return 1;
  }
  for (;;) {  // one connection after another, until killed
    const int c = ::accept(ls, nullptr, nullptr);
    if (c < 0) continue;
    Chunks chunks;
    std::thread worker([&] { parse_and_write(chunks, out_fd); });
    std::string partial;
    std::string buf(1 << 20, '\0');
    for (;;) {
      const ssize_t n = ::read(c, buf.data(), buf.size());
      if (n <= 0) break;
      partial.append(buf.data(), static_cast<std::size_t>(n));
      const std::size_t last = partial.rfind('\n');
      if (last == std::string::npos) continue;
      std::string whole = partial.substr(0, last + 1);
      partial.erase(0, last + 1);
      {
        std::lock_guard lock(chunks.mu);
        chunks.q.push_back(std::move(whole));
      }
      chunks.cv.notify_one();
    }
    {
      std::lock_guard lock(chunks.mu);
      if (!partial.empty()) chunks.q.push_back(partial + "\n");
      chunks.done = true;
    }
    chunks.cv.notify_one();
    worker.join();
    ::close(c);
  }
}
