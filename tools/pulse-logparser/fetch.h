#pragma once
// Fetching one job's log over http(s) with mgmt::HttpClient: gzip (Content-Encoding, or a .gz
// file served as it is), a size limit, and bounded retries with back-off. Blocking; runs on a
// worker thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "mgmt/http_tls.h"
#include "summary.h"

namespace pulse::logparser {

struct FetchOptions {
  uint64_t max_bytes = 100ull << 20;            // after decoding
  unsigned attempts = 4;                        // in all, the first included
  std::chrono::milliseconds retry_delay{2000};  // doubles per attempt, at most 60 s
  std::chrono::milliseconds timeout{30000};     // per connect / read step
  mgmt::TlsSettings tls;
};

struct Fetched {
  std::string body;        // the log's text (empty on error)
  std::string error;       // empty when the log was read
  bool abandoned = false;  // stopped during a back-off: no verdict
  FetchInfo info;
};

// Redirects (301, 302, 303, 307, 308) are followed, up to 5.
// Retried (up to `attempts`): no answer (refused, timed out, reset) and 5xx / 429 replies.
// Not retried: a bad URL, another 4xx, a log over max_bytes, gzip that does not decode.
// `sleep` waits out a back-off delay and returns false when the tool is stopping.
Fetched fetch_log(const std::string& url, const FetchOptions& options,
                  const std::function<bool(std::chrono::milliseconds)>& sleep);

}  // namespace pulse::logparser
