#pragma once
// pulse-translator's two threads (README.md): the caller's thread consumes and stores, a second
// one checks log URLs and publishes.
#include "translator_args.h"

namespace pulse::tools {

// Async-signal-safe: sets flags that both threads watch.
void request_translator_stop();

int run_translator(const TranslatorArgs& args);

}  // namespace pulse::tools
