#pragma once
// Helpers shared by the STOMP codec tests: run a parser over bytes fed in given chunks and
// collect what it yields.
#include <string>
#include <string_view>
#include <vector>

#include "stomp/parser.h"

namespace pulse::stomp::test {

inline std::string bytes(std::string_view s) {
  return std::string(s);
}

// Everything a parser yields for `input`, fed in pieces of at most `chunk` bytes (0: whole);
// stops at the first error, which is the last event.
inline std::vector<ParseEvent> parse_events(std::string_view input, size_t chunk = 0,
                                            ParserOptions options = {},
                                            std::optional<Version> version = std::nullopt) {
  Parser p(options);
  if (version) p.set_version(*version);
  std::vector<ParseEvent> out;
  size_t step = chunk == 0 ? std::max<size_t>(input.size(), 1) : chunk;
  for (size_t at = 0; at < input.size() || at == 0; at += step) {
    p.feed(input.substr(at, std::min(step, input.size() - std::min(at, input.size()))));
    while (true) {
      ParseEvent e = p.next();
      if (e.type == ParseEvent::Type::need_more) break;
      bool stop = e.type == ParseEvent::Type::error;
      out.push_back(std::move(e));
      if (stop) return out;
    }
    if (input.empty()) break;
  }
  return out;
}

inline std::vector<Frame> frames_of(const std::vector<ParseEvent>& events) {
  std::vector<Frame> out;
  for (const auto& e : events)
    if (e.type == ParseEvent::Type::frame) out.push_back(e.frame);
  return out;
}

inline size_t heartbeats_of(const std::vector<ParseEvent>& events) {
  size_t n = 0;
  for (const auto& e : events) n += e.type == ParseEvent::Type::heartbeat;
  return n;
}

}  // namespace pulse::stomp::test
