#include "mgmt/gzip.h"

#include <zlib.h>

#include "mgmt/errors.h"

namespace pulse::mgmt {

bool looks_gzipped(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

Result<std::string> gunzip(std::string_view data, std::uint64_t limit) {
  z_stream z{};
  // 16 + MAX_WBITS: gzip framing only (not zlib or raw deflate), as Content-Encoding says.
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Error{kBadReply, "gzip: cannot start"};
  std::string out;
  char chunk[64 * 1024];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > limit) {
      inflateEnd(&z);
      return Error{kBadReply, "gzip: the decoded body is over the limit of " +
                                  std::to_string(limit) + " bytes"};
    }
    if (rc == Z_STREAM_END) {
      // Concatenated members (what `cat a.gz b.gz` makes) decode as one body, as gzip -d does.
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) break;
    } else if (z.avail_in == 0 && z.avail_out != 0) {
      rc = Z_BUF_ERROR;  // input ended inside a member
      break;
    }
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return Error{kBadReply, rc == Z_BUF_ERROR ? "gzip: the body ends before its end"
                                              : "gzip: the body is not valid gzip"};
  }
  return out;
}

}  // namespace pulse::mgmt
