#include "stomp/serializer.h"

namespace pulse::stomp {

namespace {

void put_escaped(std::string& out, std::string_view s, EscapeSet set, bool is_name) {
  for (char c : s) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case ':':
        if (set != EscapeSet::none || is_name)
          out += "\\c";
        else
          out += c;
        break;
      case '\\':
        if (set != EscapeSet::none)
          out += "\\\\";
        else
          out += c;
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

void serialize_to(std::string& out, const Frame& frame, Version version, SerializeOptions options) {
  EscapeSet set = escape_set(options.escaping, version, frame.command);
  out += frame.command;
  out += '\n';
  for (const auto& h : frame.headers) {
    if (h.name == "content-length") continue;
    put_escaped(out, h.name, set, true);
    out += ':';
    put_escaped(out, h.value, set, false);
    out += '\n';
  }
  if (!frame.body.empty()) {
    out += "content-length:";
    out += std::to_string(frame.body.size());
    out += '\n';
  }
  out += '\n';
  out += frame.body;
  out += '\0';
  if (options.trailing_lf) out += '\n';
}

std::string serialize(const Frame& frame, Version version, SerializeOptions options) {
  std::string out;
  out.reserve(frame.command.size() + frame.body.size() + 64 + 32 * frame.headers.size());
  serialize_to(out, frame, version, options);
  return out;
}

Frame make_error_frame(std::string message, std::string detail) {
  Frame f;
  f.command = "ERROR";
  f.add("message", std::move(message));
  f.add("content-type", "text/plain");
  f.add("version", "1.0,1.1,1.2");
  f.body = std::move(detail);
  return f;
}

}  // namespace pulse::stomp
