#pragma once
// pulse-logparser's main thread: the Consumer (manual acks), the Publisher (confirms) and the
// hand-over to and from the worker threads (README.md "Threads").
#include "logparser_args.h"

namespace pulse::tools {

// Async-signal-safe: the loop stops within ~200 ms.
void request_logparser_stop();

// Returns the exit status.
int run_logparser(const LogparserArgs& args);

}  // namespace pulse::tools
