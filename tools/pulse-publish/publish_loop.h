#pragma once
// pulse-publish's main loop: JSON lines in, pipelined confirmed publishes out, a summary.
#include "counts.h"
#include "publish_args.h"

namespace pulse::tools {

// Publishes every line read from `fd`; reports each failed line and the summary on stderr.
// While no input comes, the connection is kept (confirms, heartbeats, recovery).
PublishCounts run_publish(const PublishArgs& args, int fd);

}  // namespace pulse::tools
