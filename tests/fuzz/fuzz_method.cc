// decode_method over arbitrary payloads. Anything accepted must re-encode to bytes that decode
// again and re-encode identically (compared as bytes, so NaN floats in tables do not trip it).
#include "amqp/generated/methods.h"
#include "fuzz_check.h"

using namespace pulse;
using namespace pulse::amqp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = decode_method(std::span<const uint8_t>(data, size));
  if (!m.ok()) {
    fuzz::check(m.error().code != 0 && !m.error().text.empty(), "error has code and text");
    return 0;
  }
  std::string once;
  ByteWriter w(once);
  encode_method(w, *m);
  fuzz::check(once.size() <= size, "re-encoding is no longer than the input");
  auto again = decode_method(fuzz::as_span(once));
  fuzz::check(again.ok(), "re-encoded method decodes");
  fuzz::check(again->index() == m->index(), "same method after round trip");
  std::string twice;
  ByteWriter w2(twice);
  encode_method(w2, *again);
  fuzz::check(once == twice, "encoding is stable");
  return 0;
}
