#pragma once
// A job's summary message: its identity from the normalized test-finished message
// (pulse-translator's output on exchange/build/normalized), the failure lines of its log and
// how the log was fetched. No I/O.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "log_parser.h"

namespace pulse::logparser {

// What a summary says about the job, taken from the normalized payload.
struct Job {
  nlohmann::json identity = nlohmann::json::object();  // the fields copied into the summary
  std::string logurl;
  std::string routing_key;  // <tree>.<platform>.<buildtype>.<test>
};

// Error when the payload is not an object or names no tree (not a normalized message).
// `source_key` is the input's routing key, kept in the summary as `job_key`.
Result<Job> job_from_normalized(const nlohmann::json& payload, const std::string& source_key);

// One routing-key word: dots, spaces and the pattern characters '*' and '#' become '_', an
// empty or missing value is "_" (Taskcluster's rule for missing words), at most 60 bytes.
std::string key_word(const nlohmann::json& value);

struct FetchInfo {
  uint64_t bytes = 0;        // the log's size as parsed (after any gunzip)
  uint64_t wire_bytes = 0;   // the reply body's size as received (decoded Content-Encoding)
  uint64_t duration_ms = 0;  // all attempts, back-off included
  unsigned attempts = 0;
  unsigned http_status = 0;  // of the last attempt; 0 when none answered
  std::string gzip;          // "", "content-encoding" or "file" (a .gz served as it is)
};

// The summary payload; `error` empty when the log was read (then `parser` has its failures).
nlohmann::json summary_payload(const Job& job, const FetchInfo& fetch, const std::string& error,
                               const Parser* parser);

}  // namespace pulse::logparser
