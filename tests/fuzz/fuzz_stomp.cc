// The STOMP parser over arbitrary bytes. The first byte picks the options (escaping mode,
// negotiated version, feed chunk size); the rest is the stream. Parsing in chunks must yield
// exactly what parsing it whole yields; every accepted frame must serialize and parse back to
// itself; the negotiation and destination functions must be safe on whatever headers arrive.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "stomp/destination.h"
#include "stomp/negotiation.h"
#include "stomp/parser.h"
#include "stomp/serializer.h"

using namespace pulse;
using namespace pulse::stomp;

namespace {

struct Outcome {
  std::vector<Frame> frames;
  size_t heartbeats = 0;
  std::optional<ParseErrorKind> error;
  bool operator==(const Outcome&) const = default;
};

ParserOptions options_for(uint8_t selector) {
  ParserOptions o;
  o.escaping = selector & 1 ? Escaping::rabbitmq : Escaping::spec;
  o.known_commands_only = (selector & 0x80) == 0;
  o.limits = {4096, 64, 64 * 1024};
  return o;
}

std::optional<Version> version_for(uint8_t selector) {
  switch ((selector >> 1) & 3) {
    case 1:
      return Version::v1_0;
    case 2:
      return Version::v1_1;
    case 3:
      return Version::v1_2;
    default:
      return std::nullopt;
  }
}

Outcome parse(std::string_view input, size_t chunk, const ParserOptions& o,
              std::optional<Version> v) {
  Parser p(o);
  if (v) p.set_version(*v);
  Outcome out;
  size_t at = 0;
  do {
    size_t n = chunk == 0 ? input.size() : std::min(chunk, input.size() - at);
    bool accepted = p.feed(input.substr(at, n));
    fuzz::check(accepted != p.failed(), "feed refuses input exactly when failed");
    at += n;
    for (ParseEvent e = p.next(); e.type != ParseEvent::Type::need_more; e = p.next()) {
      if (e.type == ParseEvent::Type::frame) out.frames.push_back(std::move(e.frame));
      if (e.type == ParseEvent::Type::heartbeat) ++out.heartbeats;
      if (e.type == ParseEvent::Type::error) {
        fuzz::check(e.error.has_value() && !e.error->error.message.empty(),
                    "an error has a message");
        out.error = e.error->kind;
        fuzz::check(p.failed() && !p.feed("x"), "a failed parser refuses input");
        return out;
      }
    }
  } while (at < input.size());
  return out;
}

Frame normalized(Frame f) {
  std::erase_if(f.headers, [](const Header& h) { return h.name == "content-length"; });
  if (!f.body.empty()) f.add("content-length", std::to_string(f.body.size()));
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ParserOptions opts = options_for(selector);
  std::optional<Version> version = version_for(selector);
  size_t chunk = (selector >> 3) & 0x0f;  // 0: whole

  Outcome whole = parse(input, 0, opts, version);
  fuzz::check(parse(input, chunk == 0 ? 1 : chunk, opts, version) == whole,
              "chunked parsing yields what whole parsing yields");

  ParserOptions roomy = opts;
  roomy.limits = {1 << 20, 1 << 16, 1 << 22};
  for (const Frame& f : whole.frames) {
    std::string wire = serialize(f, version.value_or(Version::v1_2), {opts.escaping, true});
    Outcome again = parse(wire, 0, roomy, version);
    fuzz::check(!again.error && again.frames.size() == 1, "a serialized frame parses");
    fuzz::check(again.frames[0] == normalized(f), "a frame round-trips");

    if (const std::string* d = f.header("destination")) {
      auto dest = parse_destination(*d);
      if (dest.ok())
        (void)routing_of(*dest);
      else
        fuzz::check(!dest.error().message.empty(), "destination errors have a message");
    }
    auto v = negotiate_version(f.header("accept-version"));
    if (!v.ok()) fuzz::check(v.error().message == "Version mismatch", "version error text");
    if (const std::string* hb = f.header("heart-beat")) {
      auto parsed = parse_heart_beat(*hb);
      if (parsed.ok()) (void)negotiate_heart_beat(*parsed).heart_beat();
    }
  }
  return 0;
}
