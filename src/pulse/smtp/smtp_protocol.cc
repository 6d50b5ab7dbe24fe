#include "pulse/smtp/smtp_protocol.h"

#include <algorithm>
#include <cstdint>

namespace pulse::smtp {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char upper(char c) {
  return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Printable ASCII only: server text ends up in logs and in JSON (which wants valid UTF-8).
std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += u == '\t' ? ' ' : (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (s.size() > max) out += "...";
  return out;
}

Error malformed(std::string_view line) {
  return Error{0, "malformed reply from the server (not SMTP?): '" + printable(line, 80) + "'"};
}

}  // namespace

std::string Reply::text(const std::vector<std::string>& secrets) const {
  std::string out = std::to_string(code);
  for (const auto& l : lines) {
    if (!l.empty()) out += " " + l;
  }
  // Redacted before it is cut: a secret across the cut would otherwise show in part.
  return printable(redact(std::move(out), secrets), kMaxReplyText);
}

Result<std::optional<Reply>> ReplyParser::next() {
  while (true) {
    const size_t nl = buf_.find('\n', pos_);
    if (nl == std::string::npos) {
      if (buf_.size() - pos_ > kMaxLine) {
        return Error{0, "a reply line from the server is longer than " + std::to_string(kMaxLine) +
                            " bytes"};
      }
      // Keep only the incomplete line: the buffer never holds more than one line and a read.
      buf_.erase(0, pos_);
      pos_ = 0;
      return std::optional<Reply>();
    }
    std::string_view line(buf_.data() + pos_, nl - pos_);
    pos_ = nl + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > kMaxLine) {
      return Error{
          0, "a reply line from the server is longer than " + std::to_string(kMaxLine) + " bytes"};
    }
    // "250", "250 text", "250-text": three digits, 2..5 first (RFC 5321 4.2).
    if (line.size() < 3 || line[0] < '2' || line[0] > '5' || !is_digit(line[1]) ||
        !is_digit(line[2]) || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      return malformed(line);
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!partial_.lines.empty() && code != partial_.code) {
      return Error{0, "malformed reply from the server: a multi-line reply changed its code (" +
                          std::to_string(partial_.code) + " then " + std::to_string(code) + ")"};
    }
    if (partial_.lines.size() >= kMaxLines) {
      return Error{0,
                   "a reply from the server has more than " + std::to_string(kMaxLines) + " lines"};
    }
    partial_.code = code;
    partial_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    if (line.size() > 3 && line[3] == '-') continue;
    Reply done = std::move(partial_);
    partial_ = Reply{};
    return std::optional<Reply>(std::move(done));
  }
}

bool Capabilities::offers_auth(std::string_view mechanism) const {
  return std::find(auth.begin(), auth.end(), mechanism) != auth.end();
}

Capabilities parse_ehlo(const Reply& reply) {
  Capabilities caps;
  // The first line is the server's name and greeting; each further line one keyword.
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::string line;
    for (char c : reply.lines[i]) line += upper(c);
    std::vector<std::string> words;
    size_t p = 0;
    while (p < line.size()) {
      const size_t e = std::min(line.find(' ', p), line.size());
      if (e > p) words.push_back(line.substr(p, e - p));
      p = e + 1;
    }
    if (words.empty()) continue;
    if (words[0] == "STARTTLS") caps.starttls = true;
    if (words[0] == "8BITMIME") caps.eightbitmime = true;
    // "AUTH=LOGIN PLAIN" is how some old servers said it.
    if (words[0] == "AUTH" || words[0].starts_with("AUTH=")) {
      if (words[0].size() > 5) words[0] = words[0].substr(5);
      for (size_t w = words[0] == "AUTH" ? 1 : 0; w < words.size(); ++w) {
        if (!caps.offers_auth(words[w])) caps.auth.push_back(words[w]);
      }
    }
  }
  return caps;
}

std::string data_payload(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 64 + 8);
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

std::string base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {kBase64[v >> 18], kBase64[(v >> 12) & 63], kBase64[(v >> 6) & 63], kBase64[v & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += {kBase64[v >> 18], kBase64[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kBase64[v >> 18], kBase64[(v >> 12) & 63], kBase64[(v >> 6) & 63], '='};
  }
  return out;
}

std::string auth_plain_response(std::string_view user, std::string_view password) {
  std::string raw;
  raw += '\0';
  raw += user;
  raw += '\0';
  raw += password;
  return base64(raw);
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (size_t p = text.find(s); p != std::string::npos; p = text.find(s, p + 3)) {
      text.replace(p, s.size(), "***");
    }
  }
  return text;
}

std::string ehlo_domain(std::string_view hostname, std::string_view local_address) {
  const bool fqdn = !hostname.empty() && hostname.size() <= 253 &&
                    hostname.find('.') != std::string_view::npos && hostname.front() != '.' &&
                    hostname.back() != '.' && hostname.find("..") == hostname.npos &&
                    std::all_of(hostname.begin(), hostname.end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                             c == '-' || c == '.';
                    });
  if (fqdn) return std::string(hostname);
  if (local_address.find(':') != std::string_view::npos) {
    return "[IPv6:" + std::string(local_address) + "]";
  }
  return "[" + std::string(local_address) + "]";
}

}  // namespace pulse::smtp
