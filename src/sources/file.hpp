#pragma once
// `file` source: tails the NDJSON file Falco's file_output writes, following rotation and resuming from a
// checkpoint (file identity + byte offset) across restarts.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sources/source.hpp"

namespace saker {

struct FileSourceOptions {
  std::string path;
  bool start_at_end = false;  // first run only (no checkpoint): skip what the file already holds
  std::chrono::milliseconds poll_interval{250};
  std::size_t max_line = 1024 * 1024;
};

class FileSource : public Source {
 public:
  FileSource(SourceContext& ctx, FileSourceOptions options);
  ~FileSource() override;

  Result<bool> start() override;
  void stop() override;

  // `<data_dir>/checkpoints/<name>.json`; empty when data_dir is empty (no checkpointing).
  const std::string& checkpoint_path() const noexcept;
  // Offset just past the last line whose batch the pipeline accepted, in the file being read.
  std::uint64_t committed_offset() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Keys: path (required), start_at (beginning|end, default beginning), poll_interval (250ms), max_line (1MiB).
SourceBuilder parse_file_source(const ConfigReader& r);

}  // namespace saker
