#include "summary.h"

namespace pulse::logparser {

namespace {

constexpr size_t kMaxWord = 60;

// The normalized fields a consumer of summaries needs to tell jobs apart (pulse-reference.md,
// "buildbot -> normalized"); those missing from the input are null.
constexpr const char* kIdentity[] = {
    "tree",    "platform",    "os",           "buildtype", "test",       "talos",
    "product", "buildername", "build_number", "buildid",   "job_number", "revision",
    "logurl",  "status",      "slave",        "timestamp", "locale"};

nlohmann::json failure_json(const Failure& f) {
  nlohmann::json j = {{"line", f.line}, {"kind", f.kind}, {"test", f.test}, {"message", f.message}};
  if (!f.signature.empty()) j["signature"] = f.signature;
  if (f.kind == "leak" && f.leaked_bytes > 0) j["leaked_bytes"] = f.leaked_bytes;
  return j;
}

}  // namespace

std::string key_word(const nlohmann::json& value) {
  std::string s;
  if (value.is_string()) {
    s = value.get<std::string>();
  } else if (value.is_number() || value.is_boolean()) {
    s = value.dump();
  }
  if (s.size() > kMaxWord) s.resize(kMaxWord);
  for (char& c : s) {
    if (c == '.' || c == '*' || c == '#' || c == ' ' || c == '\t' ||
        static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80) {
      c = '_';
    }
  }
  return s.empty() ? std::string("_") : s;
}

Result<Job> job_from_normalized(const nlohmann::json& payload, const std::string& source_key) {
  if (!payload.is_object()) return Error{0, "the payload is not a JSON object"};
  const auto tree = payload.find("tree");
  if (tree == payload.end() || !tree->is_string() || tree->get<std::string>().empty()) {
    return Error{0, "the payload has no tree: not a normalized test message"};
  }
  Job job;
  for (const char* name : kIdentity) {
    const auto it = payload.find(name);
    job.identity[name] = it == payload.end() ? nlohmann::json(nullptr) : *it;
  }
  job.identity["job_key"] = source_key;
  if (const auto it = payload.find("logurl"); it != payload.end() && it->is_string()) {
    job.logurl = it->get<std::string>();
  }
  const auto field = [&](const char* name) {
    const auto it = payload.find(name);
    return key_word(it == payload.end() ? nlohmann::json(nullptr) : *it);
  };
  job.routing_key =
      field("tree") + "." + field("platform") + "." + field("buildtype") + "." + field("test");
  return job;
}

nlohmann::json summary_payload(const Job& job, const FetchInfo& fetch, const std::string& error,
                               const Parser* parser) {
  nlohmann::json p = job.identity;
  nlohmann::json failures = nlohmann::json::array();
  nlohmann::json counts = {{"failures", 0},   {"unexpected", 0}, {"crashes", 0},
                           {"assertions", 0}, {"leaks", 0},      {"lines", 0}};
  bool truncated = false;
  if (parser && error.empty()) {
    for (const Failure& f : parser->failures()) failures.push_back(failure_json(f));
    const Counts& c = parser->counts();
    counts = {{"failures", c.failures},     {"unexpected", c.unexpected}, {"crashes", c.crashes},
              {"assertions", c.assertions}, {"leaks", c.leaks},           {"lines", c.lines}};
    truncated = parser->truncated();
  }
  p["failures"] = std::move(failures);
  p["counts"] = std::move(counts);
  p["truncated"] = truncated;
  p["fetch"] = {
      {"bytes", fetch.bytes},
      {"wire_bytes", fetch.wire_bytes},
      {"duration_ms", fetch.duration_ms},
      {"attempts", fetch.attempts},
      {"http_status", fetch.http_status},
      {"gzip", fetch.gzip.empty() ? nlohmann::json(nullptr) : nlohmann::json(fetch.gzip)}};
  p["error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
  return p;
}

}  // namespace pulse::logparser
