// decode_frame over arbitrary bytes with several frame_max values; decoded method and header
// payloads are fed on to their decoders, so whole-frame parsing is exercised end to end.
#include "amqp/frame.h"
#include "fuzz_check.h"

using namespace pulse;
using namespace pulse::amqp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  for (uint32_t frame_max : {0u, 4096u, 131072u}) {
    std::span<const uint8_t> rest = in;
    while (true) {
      FrameDecode d = decode_frame(rest, frame_max);
      if (d.status != DecodeStatus::kFrame) {
        fuzz::check(d.consumed == 0, "no bytes consumed without a frame");
        if (d.status == DecodeStatus::kError) fuzz::check(d.error.code == kFrameError, "code");
        break;
      }
      fuzz::check(d.consumed == d.frame.payload.size() + kFrameOverhead, "consumed size");
      fuzz::check(d.consumed <= rest.size(), "consumed within buffer");
      fuzz::check(frame_max == 0 || d.consumed <= frame_max, "frame_max respected");
      if (d.frame.type == kFrameMethod) {
        auto m = decode_method(d.frame.payload);
        if (!m.ok()) fuzz::check(m.error().code != 0, "error carries a reply code");
      } else if (d.frame.type == kFrameHeader) {
        ContentHeader h;
        (void)decode_content_header(d.frame.payload, h);
      }
      rest = rest.subspan(d.consumed);
    }
  }
  return 0;
}
