#pragma once
// Incremental STOMP frame parser, sans-IO: feed() bytes as they arrive, split anywhere (one byte
// at a time works), then call next() until it says need_more. It yields frames, heart-beats
// (an EOL between frames) or one error; after an error it refuses further input, since a STOMP
// server sends ERROR and closes.
//
// Grammar (STOMP 1.2, with RabbitMQ's leniencies): NULs and EOLs between frames; LF or CR LF
// ends every line in every version; a CR not followed by LF outside the body is an error; a
// header line needs a colon; header values may hold unescaped colons; `content-length` (its
// first occurrence) gives the body length on any command, and the byte after that many bytes
// must be NUL; without it the body ends at the first NUL.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "stomp/error.h"
#include "stomp/frame.h"

namespace pulse::stomp {

struct ParserLimits {
  // Command line plus header lines plus the blank line, in bytes as received.
  size_t max_header_bytes = 128 * 1024;
  size_t max_headers = 1000;
  // Header bytes plus body; RabbitMQ's stomp.max_frame_size documents 4 MiB.
  size_t max_frame_size = 4 * 1024 * 1024;
};

struct ParserOptions {
  ParserLimits limits;
  Escaping escaping = Escaping::spec;
  // Off: any command that is a non-empty line is passed on (RabbitMQ's parser does that and its
  // session answers "Bad command" without closing).
  bool known_commands_only = true;
};

enum class ParseErrorKind {
  bad_command,         // not a STOMP command
  bad_header,          // header line without a colon, or NUL before the blank line
  invalid_escape,      // backslash code not defined for the frame's version
  bad_line_ending,     // CR not followed by LF
  bad_content_length,  // not a non-negative decimal integer
  headers_too_large,   // max_header_bytes
  too_many_headers,    // max_headers
  frame_too_large,     // max_frame_size (content-length says so, or the body grew past it)
  missing_nul,         // the byte after a content-length body is not NUL
};

struct ParseError {
  ParseErrorKind kind;
  StompError error;
};

struct ParseEvent {
  enum class Type { need_more, frame, heartbeat, error };
  Type type = Type::need_more;
  Frame frame;                      // type == frame
  std::optional<ParseError> error;  // type == error
};

class Parser {
 public:
  explicit Parser(ParserOptions options = {});

  // Header escaping follows the negotiated version once the session knows it (spec mode).
  void set_version(Version v) { version_ = v; }

  // Appends bytes; false (and the bytes dropped) once the parser has failed.
  bool feed(std::string_view bytes);
  ParseEvent next();

  bool failed() const { return state_ == State::failed; }
  // Bytes fed but not yet consumed.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  enum class State {
    idle,
    command,
    header_name,
    header_value,
    body_until_nul,
    body_counted,
    expect_nul,
    failed
  };

  ParseEvent fail(ParseErrorKind kind, std::string message, std::string detail);
  // Handles one byte of a command or header line; may complete the header block.
  std::optional<ParseEvent> line_byte(char c);
  std::optional<ParseEvent> end_of_line();
  std::optional<ParseEvent> start_body();
  ParseEvent emit_frame();
  void compact();

  ParserOptions opts_;
  std::optional<Version> version_;
  State state_ = State::idle;
  std::string buf_;
  size_t pos_ = 0;
  bool cr_ = false;   // a CR was read; LF must follow
  bool esc_ = false;  // a backslash was read inside a header name or value
  EscapeSet escapes_ = EscapeSet::v1_2;
  Frame frame_;
  std::string name_, value_;
  size_t header_bytes_ = 0;
  size_t body_remaining_ = 0;
  std::optional<ParseError> error_;
};

}  // namespace pulse::stomp
