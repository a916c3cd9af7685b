#include "sinks/stdout.hpp"

#include <unistd.h>

#include "sinks/ndjson_writer.hpp"

namespace saker {
namespace {

class StdoutSink final : public Sink {
 public:
  explicit StdoutSink(std::shared_ptr<const Formatter> f) : writer_(std::move(f)) {}
  Result<bool> write(std::span<const AlertPtr> batch) override { return writer_.write(STDOUT_FILENO, batch, "stdout"); }

 private:
  NdjsonWriter writer_;
};

}  // namespace

SinkBuilder parse_stdout_sink(const ConfigReader& r) {
  r.only({}, kCommonSinkKeys);
  return [](SinkContext& ctx) -> std::unique_ptr<Sink> { return std::make_unique<StdoutSink>(ctx.formatter); };
}

}  // namespace saker
