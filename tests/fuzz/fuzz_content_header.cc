// decode_content_header over arbitrary payloads; accepted properties must re-encode stably and
// raw_properties must point inside the input.
#include "amqp/frame.h"
#include "fuzz_check.h"

using namespace pulse;
using namespace pulse::amqp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ContentHeader h;
  if (!decode_content_header(std::span<const uint8_t>(data, size), h)) return 0;
  const char* begin = reinterpret_cast<const char*>(data);
  fuzz::check(h.raw_properties.data() >= begin &&
                  h.raw_properties.data() + h.raw_properties.size() == begin + size,
              "raw_properties is the tail of the payload");
  std::string once;
  ByteWriter w(once);
  encode_properties(w, h.properties);
  ByteReader r(fuzz::as_span(once));
  BasicProperties again;
  fuzz::check(decode_properties(r, again) && r.empty(), "re-encoded properties decode");
  std::string twice;
  ByteWriter w2(twice);
  encode_properties(w2, again);
  fuzz::check(once == twice, "encoding is stable");
  return 0;
}
