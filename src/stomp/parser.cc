#include "stomp/parser.h"

#include <cstdio>
#include <cstring>
#include <utility>

namespace pulse::stomp {

namespace {

// Bytes shown in error texts: printable ASCII as is, anything else as \xNN.
std::string printable(std::string_view s, size_t max = 64) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

std::optional<char> unescape(EscapeSet set, char code) {
  switch (code) {
    case 'n':
      return '\n';
    case 'c':
      return ':';
    case '\\':
      return '\\';
    case 'r':
      if (set == EscapeSet::v1_2) return '\r';
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// A non-negative decimal, spaces around it tolerated (RabbitMQ strips them).
std::optional<size_t> parse_length(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty() || s.size() > 18) return std::nullopt;
  size_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

}  // namespace

Parser::Parser(ParserOptions options) : opts_(options) {}

bool Parser::feed(std::string_view bytes) {
  if (state_ == State::failed) return false;
  buf_.append(bytes);
  return true;
}

ParseEvent Parser::fail(ParseErrorKind kind, std::string message, std::string detail) {
  state_ = State::failed;
  error_ = ParseError{kind, StompError{std::move(message), std::move(detail)}};
  buf_.clear();
  pos_ = 0;
  ParseEvent e;
  e.type = ParseEvent::Type::error;
  e.error = error_;
  return e;
}

void Parser::compact() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

ParseEvent Parser::emit_frame() {
  ParseEvent e;
  e.type = ParseEvent::Type::frame;
  e.frame = std::move(frame_);
  frame_ = Frame{};
  state_ = State::idle;
  header_bytes_ = 0;
  compact();
  return e;
}

std::optional<ParseEvent> Parser::start_body() {
  if (const std::string* cl = frame_.header("content-length")) {
    auto len = parse_length(*cl);
    if (!len)
      return fail(ParseErrorKind::bad_content_length, "Bad content-length",
                  "'" + printable(*cl) + "' is not a valid content-length");
    if (*len > opts_.limits.max_frame_size || header_bytes_ + *len > opts_.limits.max_frame_size)
      return fail(ParseErrorKind::frame_too_large, "Frame too large",
                  "content-length " + std::to_string(*len) + " makes the frame exceed " +
                      std::to_string(opts_.limits.max_frame_size) + " bytes");
    body_remaining_ = *len;
    frame_.body.reserve(*len);
    state_ = *len == 0 ? State::expect_nul : State::body_counted;
  } else {
    state_ = State::body_until_nul;
  }
  return std::nullopt;
}

std::optional<ParseEvent> Parser::end_of_line() {
  switch (state_) {
    case State::command:
      if (opts_.known_commands_only && !is_known_command(name_))
        return fail(ParseErrorKind::bad_command, "Bad command",
                    "Could not interpret command \"" + printable(name_) + "\"\n");
      frame_.command = std::move(name_);
      name_.clear();
      escapes_ = escape_set(opts_.escaping, version_, frame_.command);
      state_ = State::header_name;
      return std::nullopt;
    case State::header_name:
      if (name_.empty()) return start_body();
      return fail(ParseErrorKind::bad_header, "Bad header",
                  "Header line '" + printable(name_) + "' has no ':'");
    case State::header_value:
      if (frame_.headers.size() >= opts_.limits.max_headers)
        return fail(
            ParseErrorKind::too_many_headers, "Too many headers",
            "The frame has more than " + std::to_string(opts_.limits.max_headers) + " headers");
      frame_.headers.push_back({std::move(name_), std::move(value_)});
      name_.clear();
      value_.clear();
      state_ = State::header_name;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<ParseEvent> Parser::line_byte(char c) {
  if (++header_bytes_ > opts_.limits.max_header_bytes)
    return fail(ParseErrorKind::headers_too_large, "Headers too large",
                "The command and headers exceed " + std::to_string(opts_.limits.max_header_bytes) +
                    " bytes");
  std::string& acc = state_ == State::header_value ? value_ : name_;
  if (esc_) {
    esc_ = false;
    auto ch = unescape(escapes_, c);
    if (!ch)
      return fail(ParseErrorKind::invalid_escape, "Invalid escape",
                  "'\\" + printable(std::string_view(&c, 1)) +
                      "' is not a valid escape in a STOMP " +
                      std::string(escapes_ == EscapeSet::v1_1 ? "1.1" : "1.2") + " header");
    acc += *ch;
    return std::nullopt;
  }
  if (cr_) {
    cr_ = false;
    if (c != '\n')
      return fail(ParseErrorKind::bad_line_ending, "Bad line ending",
                  "A CR must be followed by LF");
    return end_of_line();
  }
  switch (c) {
    case '\r':
      cr_ = true;
      return std::nullopt;
    case '\n':
      return end_of_line();
    case '\0':
      return fail(ParseErrorKind::bad_header, "Bad header",
                  "The frame ended (NUL) before the blank line that closes its headers");
    case ':':
      if (state_ == State::header_name) {
        state_ = State::header_value;
        return std::nullopt;
      }
      break;
    case '\\':
      if (state_ != State::command && escapes_ != EscapeSet::none) {
        esc_ = true;
        return std::nullopt;
      }
      break;
    default:
      break;
  }
  acc += c;
  return std::nullopt;
}

ParseEvent Parser::next() {
  if (state_ == State::failed) {
    ParseEvent e;
    e.type = ParseEvent::Type::error;
    e.error = error_;
    return e;
  }
  while (pos_ < buf_.size()) {
    switch (state_) {
      case State::idle: {
        char c = buf_[pos_];
        if (cr_) {
          cr_ = false;
          ++pos_;
          if (c != '\n')
            return fail(ParseErrorKind::bad_line_ending, "Bad line ending",
                        "A CR must be followed by LF");
          compact();
          return ParseEvent{ParseEvent::Type::heartbeat, {}, {}};
        }
        if (c == '\n') {
          ++pos_;
          compact();
          return ParseEvent{ParseEvent::Type::heartbeat, {}, {}};
        }
        if (c == '\r' || c == '\0') {
          cr_ = c == '\r';
          ++pos_;
          break;
        }
        state_ = State::command;
        escapes_ = EscapeSet::none;
        break;
      }
      case State::command:
      case State::header_name:
      case State::header_value: {
        char c = buf_[pos_++];
        if (auto e = line_byte(c)) return std::move(*e);
        break;
      }
      case State::body_until_nul: {
        const char* start = buf_.data() + pos_;
        size_t avail = buf_.size() - pos_;
        const void* nul = std::memchr(start, '\0', avail);
        size_t take = nul ? static_cast<size_t>(static_cast<const char*>(nul) - start) : avail;
        if (header_bytes_ + frame_.body.size() + take > opts_.limits.max_frame_size)
          return fail(
              ParseErrorKind::frame_too_large, "Frame too large",
              "The frame exceeds " + std::to_string(opts_.limits.max_frame_size) + " bytes");
        frame_.body.append(start, take);
        pos_ += take;
        if (nul) {
          ++pos_;
          return emit_frame();
        }
        break;
      }
      case State::body_counted: {
        size_t take = std::min(body_remaining_, buf_.size() - pos_);
        frame_.body.append(buf_, pos_, take);
        pos_ += take;
        body_remaining_ -= take;
        if (body_remaining_ == 0) state_ = State::expect_nul;
        break;
      }
      case State::expect_nul:
        if (buf_[pos_] != '\0')
          return fail(ParseErrorKind::missing_nul, "Missing NUL",
                      "The " + std::to_string(frame_.body.size()) +
                          "-byte body given by content-length is not followed by NUL");
        ++pos_;
        return emit_frame();
      case State::failed:
        break;
    }
  }
  compact();
  return ParseEvent{};
}

}  // namespace pulse::stomp
