#include "sinks/queue/buffer.hpp"

#include "sinks/queue/disk_buffer.hpp"
#include "sinks/queue/memory_buffer.hpp"

namespace saker {

Result<std::unique_ptr<Buffer>> open_buffer(const BufferSpec& spec, const BufferContext& ctx) {
  if (spec.type == BufferSpec::Type::Disk) return DiskBuffer::open(spec, ctx);
  return std::unique_ptr<Buffer>(std::make_unique<MemoryBuffer>(spec, ctx));
}

}  // namespace saker
