#pragma once
// pulse-publish's main loop: JSON lines in, pipelined confirmed publishes out, a summary.
#include <istream>

#include "counts.h"
#include "publish_args.h"

namespace pulse::tools {

// Publishes every line of `in`; reports each failed line and the summary on stderr.
PublishCounts run_publish(const PublishArgs& args, std::istream& in);

}  // namespace pulse::tools
