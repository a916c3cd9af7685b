#include "observe/logging.hpp"

#include <memory>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/json_text.hpp"

namespace saker {
namespace {

// `%*`: the message with the config's secrets replaced by their placeholders; a quoted JSON string when the log
// is JSON (spdlog's own flags do not escape), with bytes that are not UTF-8 replaced, so every line parses.
class MessageFlag final : public spdlog::custom_flag_formatter {
 public:
  MessageFlag(std::shared_ptr<const SecretRedactor> redactor, bool json)
      : redactor_(std::move(redactor)), json_(json) {}
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string text = redactor_->apply(std::string_view(msg.payload.data(), msg.payload.size()));
    if (!json_) {
      dest.append(text.data(), text.data() + text.size());
      return;
    }
    std::string escaped;
    append_json_string(escaped, text, InvalidUtf8::Replace);
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<MessageFlag>(redactor_, json_);
  }

 private:
  std::shared_ptr<const SecretRedactor> redactor_;
  bool json_;
};

void set_log_format(spdlog::logger& logger, std::string_view format, std::shared_ptr<const SecretRedactor> redactor) {
  const bool json = format == "json";
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<MessageFlag>('*', std::move(redactor), json);
  formatter->set_pattern(json ? R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","message":%*})"
                              : "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %*");
  logger.set_formatter(std::move(formatter));
}

}  // namespace

std::shared_ptr<SecretRedactor> setup_logging(const std::string& level, std::string_view format,
                                              const Redactions& redactions) {
  auto redactor = std::make_shared<SecretRedactor>();
  redactor->add(redactions);
  std::shared_ptr<spdlog::logger> logger =
      format == "json" ? spdlog::stderr_logger_mt("saker") : spdlog::stderr_color_mt("saker");
  set_log_format(*logger, format, redactor);
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  return redactor;
}

void reconfigure_logging(const std::string& level, std::string_view format,
                         std::shared_ptr<const SecretRedactor> redactor) {
  // The sinks' formatters are swapped under their own locks: a line being written keeps the format it started with.
  if (auto logger = spdlog::get("saker")) set_log_format(*logger, format, std::move(redactor));
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace saker
