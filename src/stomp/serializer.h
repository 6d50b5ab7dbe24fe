#pragma once
// Frames to bytes, as RabbitMQ writes them: command, headers in order with escaping for the
// frame's version, any `content-length` the frame carries dropped and the real one appended
// when the body is non-empty (so NULs in a body survive), a blank line, the body, NUL, and by
// default one LF after the NUL (RabbitMQ's trailing_lf, on by default).
#include <string>
#include <string_view>

#include "stomp/frame.h"

namespace pulse::stomp {

struct SerializeOptions {
  Escaping escaping = Escaping::spec;
  bool trailing_lf = true;
};

// Where the version's escaping has no code for a character that would break the frame (LF or CR
// in 1.0 and CONNECTED headers, CR in 1.1, a colon in a 1.0 header name), it is written with
// RabbitMQ's escape code all the same: the frame stays parseable and the reader sees the code.
void serialize_to(std::string& out, const Frame& frame, Version version,
                  SerializeOptions options = {});
std::string serialize(const Frame& frame, Version version, SerializeOptions options = {});

// A heart-beat: one EOL.
inline constexpr std::string_view kHeartbeat = "\n";

// RabbitMQ's ERROR frame: message, content-type text/plain, version 1.0,1.1,1.2 (the session
// may add receipt-id), and the detail as the body.
Frame make_error_frame(std::string message, std::string detail);

}  // namespace pulse::stomp
