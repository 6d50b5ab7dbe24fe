#pragma once
// pulse-listen's main loop: a pulse::Consumer whose handler prints each message.
#include "listen_args.h"

namespace pulse::tools {

// Consumes until --count messages were printed, request_stop() or a permanent error; returns
// the exit status. Output is flushed before every stderr announcement and at the end.
int run_listen(const ListenArgs& args);

// Async-signal-safe: stops run_listen (also when called before the consumer exists).
void request_stop();

}  // namespace pulse::tools
