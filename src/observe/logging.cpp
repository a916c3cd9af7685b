#include "observe/logging.hpp"

#include <memory>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace saker {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// `%*`: the message with the config's secrets replaced by their placeholders, escaped for a JSON string when
// the log is JSON (spdlog's own flags do not escape).
class MessageFlag final : public spdlog::custom_flag_formatter {
 public:
  MessageFlag(std::shared_ptr<const LogRedactor> redactor, bool json) : redactor_(std::move(redactor)), json_(json) {}
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string text = redactor_->apply(std::string_view(msg.payload.data(), msg.payload.size()));
    if (!json_) {
      dest.append(text.data(), text.data() + text.size());
      return;
    }
    std::string escaped;
    append_json_escaped(escaped, text);
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<MessageFlag>(redactor_, json_);
  }

 private:
  std::shared_ptr<const LogRedactor> redactor_;
  bool json_;
};

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_length(s, i)) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out.append("\\ufffd");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x20) {
          const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out.append(esc, 6);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

void LogRedactor::add(const Redactions& redactions) {
  const Redactions long_enough = redactions.at_least(4);
  std::lock_guard lock(mu_);
  redactions_.add_all(long_enough);
}

std::string LogRedactor::apply(std::string_view message) const {
  std::lock_guard lock(mu_);
  return redactions_.apply(message);
}

std::shared_ptr<LogRedactor> setup_logging(const std::string& level, std::string_view format,
                                           const Redactions& redactions) {
  auto redactor = std::make_shared<LogRedactor>();
  redactor->add(redactions);
  const bool json = format == "json";
  std::shared_ptr<spdlog::logger> logger =
      json ? spdlog::stderr_logger_mt("saker") : spdlog::stderr_color_mt("saker");
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<MessageFlag>('*', redactor, json);
  formatter->set_pattern(json ? R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","message":"%*"})"
                              : "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %*");
  logger->set_formatter(std::move(formatter));
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  return redactor;
}

}  // namespace saker
