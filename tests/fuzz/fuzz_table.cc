// decode_table over arbitrary bytes; accepted tables must re-encode stably, and lookups on them
// must be safe.
#include "amqp/field_table.h"
#include "fuzz_check.h"

using namespace pulse;
using namespace pulse::amqp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader r(data, size);
  FieldTable t;
  if (!decode_table(r, t)) return 0;
  fuzz::check(r.position() <= size, "reader stays in bounds");
  std::string once;
  ByteWriter w(once);
  encode_table(w, t);
  ByteReader r2(fuzz::as_span(once));
  FieldTable again;
  fuzz::check(decode_table(r2, again) && r2.empty(), "re-encoded table decodes");
  std::string twice;
  ByteWriter w2(twice);
  encode_table(w2, again);
  fuzz::check(once == twice, "encoding is stable");
  for (const auto& [k, v] : t) {
    fuzz::check(find(t, k) != nullptr, "find sees every key");
    (void)v.as_int();
  }
  return 0;
}
