#pragma once
// Does a job's log URL answer yet? pulsetranslator sent a HEAD and waited for 200. We GET the
// first byte (Range: bytes=0-0), since src/mgmt's client reads a reply body in full and HEAD
// support is still to come there: a server that honours Range sends one byte (206); one that
// ignores it sends the whole log (200), which works but costs the download.
#include <chrono>
#include <string>

namespace pulse::translator {

struct LogProbe {
  bool ready = false;
  std::string detail;  // "HTTP 404", "connection refused", ... for the logs
};

LogProbe probe_log(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace pulse::translator
