// Writes the seed corpus for the codec fuzzers: make_seeds OUT_DIR creates OUT_DIR/{frame,method,
// content_header,table}. The committed tests/fuzz/corpus was produced by this tool.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "amqp/frame.h"
#include "amqp/generated/method_samples.h"

using namespace pulse;
using namespace pulse::amqp;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string safe(std::string s) {
  for (char& c : s)
    if (c == '.' || c == '-') c = '_';
  return s;
}

FieldTable every_type() {
  return {{"t", FieldValue(true)},
          {"b", FieldValue(int8_t{-1})},
          {"B", FieldValue(uint8_t{2})},
          {"s", FieldValue(int16_t{-3})},
          {"u", FieldValue(uint16_t{4})},
          {"I", FieldValue(int32_t{-5})},
          {"i", FieldValue(uint32_t{6})},
          {"l", FieldValue(int64_t{-7})},
          {"f", FieldValue(1.5f)},
          {"d", FieldValue(2.5)},
          {"D", FieldValue(Decimal{2, 314})},
          {"S", FieldValue(std::string("str"))},
          {"A", FieldValue(FieldArray{FieldValue(int8_t{1}), FieldValue(FieldArray{})})},
          {"T", FieldValue(Timestamp{1700000000})},
          {"F", FieldValue(FieldTable{{"k", FieldValue()}})},
          {"V", FieldValue()},
          {"x", FieldValue(ByteArray{std::string("\x00\x01", 2)})}};
}

BasicProperties all_properties() {
  BasicProperties p;
  p.set_content_type("text/plain");
  p.set_content_encoding("gzip");
  p.set_headers(every_type());
  p.set_delivery_mode(2);
  p.set_priority(5);
  p.set_correlation_id("corr");
  p.set_reply_to("rq");
  p.set_expiration("60000");
  p.set_message_id("mid");
  p.set_timestamp(1700000000);
  p.set_type("t1");
  p.set_user_id("guest");
  p.set_app_id("app");
  p.set_cluster_id("c1");
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  const auto samples = sample_methods();
  for (size_t i = 0; i < samples.size(); i += 2) {  // the "rich" sample of every method
    std::string b;
    ByteWriter w(b);
    encode_method(w, samples[i]);
    write(out / "method", safe(name_of(samples[i])), b);
  }

  std::string header;
  append_content(header, 1, all_properties(), "", 4096);
  write(out / "content_header", "all_properties", header.substr(7, header.size() - 8));
  std::string empty;
  append_content(empty, 1, BasicProperties{}, "", 4096);
  write(out / "content_header", "no_properties", empty.substr(7, empty.size() - 8));

  std::string table;
  ByteWriter tw(table);
  encode_table(tw, every_type());
  write(out / "table", "every_type", table);
  std::string nested;
  ByteWriter nw(nested);
  encode_table(
      nw,
      FieldTable{
          {"a", FieldValue(FieldTable{{"b", FieldValue(FieldArray{FieldValue(every_type())})}})}});
  write(out / "table", "nested", nested);

  // A publish as a client sends it: method, header and two body frames, then a heartbeat.
  BasicPublish pub;
  pub.exchange = "amq.topic";
  pub.routing_key = "a.b";
  pub.mandatory = true;
  std::string stream;
  append_method_frame(stream, 1, pub);
  append_content(stream, 1, all_properties(), std::string(5000, 'x'), 4096);
  append_heartbeat(stream);
  write(out / "frame", "publish_stream", stream);
  std::string beat;
  append_heartbeat(beat);
  write(out / "frame", "heartbeat", beat);
  for (size_t i : {size_t{0}, size_t{2}}) {  // connection.start, connection.start-ok
    std::string f;
    std::visit([&f](const auto& m) { append_method_frame(f, 0, m); }, samples[i]);
    write(out / "frame", safe(name_of(samples[i])), f);
  }
  return 0;
}
