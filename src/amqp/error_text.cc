#include "amqp/error_text.h"

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

// payload_snippet/1 in rabbit_reader: at most 16 bytes are shown.
std::string snippet(std::span<const uint8_t> payload) {
  if (payload.size() <= 16) return "all octets = " + erlang_print_binary(payload);
  return "first 16 octets = " + erlang_print_binary(payload.first(16));
}

}  // namespace

std::string erlang_write_binary(std::span<const uint8_t> bytes) {
  std::string out = "<<";
  append_number_list(out, bytes, std::string::npos);
  out += ">>";
  return out;
}

std::string erlang_print_binary(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return "<<>>";
  for (uint8_t c : bytes)
    if (!printable_latin1(c)) return erlang_write_binary(bytes);
  std::string out = "<<\"";
  for (uint8_t c : bytes) {
    switch (c) {
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
        out += static_cast<char>(c);
    }
  }
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
  std::string text = "FRAME_ERROR - type " + std::to_string(type) + ", " + snippet(payload) + ": ";
  text += reason;
  return Error{kFrameError, clamp_reply_text(std::move(text)), 0, 0};
}

Error unexpected_frame(uint8_t type, std::span<const uint8_t> payload) {
  return Error{
      kUnexpectedFrame,
      clamp_reply_text("UNEXPECTED_FRAME - type " + std::to_string(type) + ", " + snippet(payload)),
      0, 0};
}

Error cannot_decode(std::span<const uint8_t> args, uint16_t class_id, uint16_t method_id) {
  std::string text = "FRAME_ERROR - cannot decode <<";
  append_number_list(text, args, kMaxReplyText);
  text += ">>";
  return Error{kFrameError, clamp_reply_text(std::move(text)), class_id, method_id};
}

}  // namespace pulse::amqp
