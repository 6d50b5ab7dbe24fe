#include "amqp/error_text.h"

#include <algorithm>

#include "amqp/generated/constants.h"

namespace pulse::amqp {

namespace {

constexpr size_t kMaxReplyText = 255;

// io_lib:printable_latin1_list/1: what `~p` is willing to show as a string.
bool printable_latin1(uint8_t c) {
  return (c >= 32 && c <= 126) || c >= 160 || (c >= 8 && c <= 13) || c == 27;
}

void append_number_list(std::string& out, std::span<const uint8_t> bytes, size_t stop_at) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(bytes[i]);
    // Nothing past a short string's length can reach the client; stop early on huge inputs.
    if (out.size() > stop_at) return;
  }
}

// io_lib_pretty's layout for `~p`, for the few term shapes RabbitMQ's frame errors print: a term
// that does not fit on the line is broken, a numeric binary by filling lines and continuing under
// its first element, a tagged tuple by moving its value under the tag. The line is 80 columns
// with one kept free, as io_lib:format lays it out (checked against OTP 25 over all payload
// lengths and digit widths).
constexpr long kLineLength = 79;

size_t column(const std::string& s) {
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s.size() : s.size() - nl - 1;
}

void append_pretty_binary(std::string& out, std::span<const uint8_t> bytes) {
  const size_t col = column(out);
  std::string flat = erlang_print_binary(bytes);
  if (static_cast<long>(col + flat.size()) < kLineLength || flat.compare(0, 3, "<<\"") == 0) {
    out += flat;
    return;
  }
  const size_t inner = col + 2;  // continuation lines start under the first element
  const long width = std::max<long>(8, kLineLength - static_cast<long>(inner));
  const std::string indent = "\n" + std::string(inner, ' ');
  long left = width;
  out += "<<";
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string e = std::to_string(bytes[i]);
    if (i + 1 < bytes.size()) {
      const long len = static_cast<long>(e.size()) + 1;
      if (left - len < 0) {
        out += indent;
        left = width;
      }
      out += e + ',';
      left -= len;
    } else {
      if (static_cast<long>(e.size()) > left) out += indent;
      out += e;
    }
  }
  out += ">>";
}

// {tag,N1,N2...}
void append_pretty_tuple(std::string& out, std::string_view tag,
                         std::initializer_list<uint64_t> values) {
  std::string rest;
  for (uint64_t v : values) rest += (rest.empty() ? "" : ",") + std::to_string(v);
  const size_t col = column(out);
  std::string flat = "{" + std::string(tag) + "," + rest + "}";
  if (static_cast<long>(col + flat.size()) < kLineLength) {
    out += flat;
  } else {
    out += "{" + std::string(tag) + ",\n" + std::string(col + 1, ' ') + rest + "}";
  }
}

// "type ~p, ~s octets = ~p" as in rabbit_reader's frame_error/unexpected_frame; payload_snippet/1
// shows at most 16 bytes.
std::string describe_frame(uint8_t type, std::span<const uint8_t> payload) {
  std::string out = "type " + std::to_string(type) + ", ";
  out += payload.size() <= 16 ? "all" : "first 16";
  out += " octets = ";
  append_pretty_binary(out, payload.first(std::min<size_t>(payload.size(), 16)));
  return out;
}

}  // namespace

std::string erlang_write_binary(std::span<const uint8_t> bytes) {
  std::string out = "<<";
  append_number_list(out, bytes, std::string::npos);
  out += ">>";
  return out;
}

void append_erlang_escaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case 27:
        out += "\\e";
        break;
      default:
        out += ch;
    }
  }
}

std::string erlang_print_binary(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return "<<>>";
  for (uint8_t c : bytes)
    if (!printable_latin1(c)) return erlang_write_binary(bytes);
  std::string out = "<<\"";
  append_erlang_escaped(
      out, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  out += "\">>";
  return out;
}

std::string clamp_reply_text(std::string text) {
  if (text.size() > kMaxReplyText) {
    text.resize(kMaxReplyText - 3);
    text += "...";
  }
  return text;
}

Error frame_error(uint8_t type, std::span<const uint8_t> payload, std::string_view reason) {
  std::string text = describe_frame(type, payload) + ": ";
  text += reason;
  return Error{kFrameError, clamp_reply_text("FRAME_ERROR - " + text), 0, 0};
}

Error frame_error(uint8_t type, std::span<const uint8_t> payload, std::string_view tag,
                  std::initializer_list<uint64_t> values) {
  std::string text = describe_frame(type, payload) + ": ";
  append_pretty_tuple(text, tag, values);
  return Error{kFrameError, clamp_reply_text("FRAME_ERROR - " + text), 0, 0};
}

Error unexpected_frame(uint8_t type, std::span<const uint8_t> payload) {
  return Error{kUnexpectedFrame,
               clamp_reply_text("UNEXPECTED_FRAME - " + describe_frame(type, payload)), 0, 0};
}

Error cannot_decode(std::span<const uint8_t> args, uint16_t class_id, uint16_t method_id) {
  std::string text = "FRAME_ERROR - cannot decode <<";
  append_number_list(text, args, kMaxReplyText);
  text += ">>";
  return Error{kFrameError, clamp_reply_text(std::move(text)), class_id, method_id};
}

}  // namespace pulse::amqp
