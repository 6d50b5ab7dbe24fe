// Writes the seed corpus for fuzz_stomp: make_stomp_seeds OUT_DIR creates OUT_DIR/stomp. Each
// file is one selector byte (see fuzz_stomp.cc) and a byte stream a client or server sends.
// The committed tests/fuzz/corpus/stomp was produced by this tool.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "stomp/serializer.h"

using namespace pulse::stomp;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& dir, const std::string& name, char selector, const std::string& s) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << selector << s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_stomp_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path dir = fs::path(argv[1]) / "stomp";
  const Version v12 = Version::v1_2;

  Frame connect{"CONNECT",
                {{"accept-version", "1.0,1.1,1.2"},
                 {"host", "/"},
                 {"login", "guest"},
                 {"passcode", "guest"},
                 {"heart-beat", "10000,10000"}},
                ""};
  Frame subscribe{"SUBSCRIBE",
                  {{"id", "0"},
                   {"destination", "/exchange/amq.topic/a.*"},
                   {"ack", "client-individual"},
                   {"prefetch-count", "10"}},
                  ""};
  Frame send{"SEND",
             {{"destination", "/queue/a%2Fb"},
              {"receipt", "r1"},
              {"content-type", "application/octet-stream"},
              {"x-custom", "a:b\\c\nd"}},
             std::string("bin\0ary", 7)};
  Frame disconnect{"DISCONNECT", {{"receipt", "bye"}}, ""};
  std::string session = serialize(connect, v12) + std::string(kHeartbeat) +
                        serialize(subscribe, v12) + serialize(send, v12) + "\r\n" +
                        serialize(disconnect, v12);
  write(dir, "client_session_1_2", 0x06 | (3 << 3), session);
  write(dir, "client_session_rabbitmq_mode", 0x01, session);
  write(dir, "client_session_1_0", 0x02, serialize(send, Version::v1_0));
  write(dir, "client_session_1_1", 0x04 | (1 << 3), serialize(send, Version::v1_1));

  Frame connected{"CONNECTED",
                  {{"server", "RabbitMQ/3.10.8"},
                   {"session", "session-abc"},
                   {"heart-beat", "10000,10000"},
                   {"version", "1.2"}},
                  ""};
  Frame message{"MESSAGE",
                {{"subscription", "0"},
                 {"destination", "/topic/a.b"},
                 {"message-id", "T_0@@session-abc@@1"},
                 {"redelivered", "false"},
                 {"ack", "T_0@@session-abc@@1"}},
                "payload"};
  write(
      dir, "server_stream", 0x06,
      serialize(connected, v12) + serialize(message, v12) + "\n" +
          serialize(make_error_frame("Bad command", "Could not interpret command \"FOO\"\n"), v12));
  write(dir, "crlf_no_content_length", 0x06,
        "SEND\r\ndestination:/reply-queue/x/y\r\n\r\nhello\0\r\n"s);
  write(dir, "unknown_command", 0x80, "FOO\nk:v\n\n\0"s);
  return 0;
}
