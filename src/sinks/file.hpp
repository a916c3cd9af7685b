#pragma once
#include "sinks/sink.hpp"

namespace saker {

// `file`: one record per line appended to `path`, rotated by size and/or age.
//   path: /var/log/saker/alerts.ndjson   (required)
//   max_size: 100MiB        rotate when the file would grow past this (0: never)
//   rotate_every: 24h       rotate when the file is older than this (0: never)
//   max_files: 5            rotated files kept (path.1 newest ... path.N oldest)
//   mode: "0640"            permissions of new files
SinkBuilder parse_file_sink(const ConfigReader& r);

}  // namespace saker
