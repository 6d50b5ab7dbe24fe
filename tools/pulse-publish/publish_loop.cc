#include "publish_loop.h"

#include <cstring>
#include <unordered_map>

#include "line_reader.h"

namespace pulse::tools {
namespace {

constexpr const char* kProgram = "pulse-publish";
// Failed lines reported one by one before the rest are only counted, so that a refused
// exchange does not print a line per message of a large file.
constexpr uint64_t kMaxReports = 20;
// While no input comes: wait this long for it, then this long in the publisher (confirms,
// heartbeats, recovery), in turn. A typed line is picked up within that time.
constexpr std::chrono::milliseconds kIdleSlice{100};

class Reporter {
 public:
  void failed(uint64_t line, std::string_view why) {
    if (++reports_ <= kMaxReports) {
      say(kProgram, "line " + std::to_string(line) + ": " + std::string(why));
    } else if (reports_ == kMaxReports + 1) {
      say(kProgram, "more failures: only counted from here on");
    }
  }

 private:
  uint64_t reports_ = 0;
};

}  // namespace

PublishCounts run_publish(const PublishArgs& a, int fd) {
  PublishCounts counts;
  Reporter report;
  PublisherOptions options = publisher_options(a);
  announce_recovery(options.recovery, kProgram);
  Publisher publisher(std::move(options));
  const PublishOptions per_message = publish_options(a);

  // Ticket -> input line, until the message is settled. A message may settle inside the very
  // send() that queued it (send pumps when too many are in flight): that one is `sending`.
  std::unordered_map<uint64_t, uint64_t> line_of;
  uint64_t sending = 0;
  bool settled_in_send = false;
  publisher.on_outcome([&](uint64_t ticket, const Status& outcome) {
    uint64_t line = sending;
    if (auto it = line_of.find(ticket); it != line_of.end()) {
      line = it->second;
      line_of.erase(it);
    } else {
      settled_in_send = true;
    }
    if (outcome) {
      ++counts.confirmed;
    } else {
      ++counts.failed;
      report.failed(line, outcome.error().text);
    }
  });

  LineReader reader(fd);
  std::string_view text;
  uint64_t number = 0;
  for (;;) {
    const LineReader::Next next = reader.next(text, kIdleSlice);
    if (next == LineReader::Next::kIdle) {
      publisher.poll(kIdleSlice);
      continue;
    }
    if (next == LineReader::Next::kEnd) break;
    if (next == LineReader::Next::kError) {
      // What follows is unknown: the run cannot be a success.
      ++counts.failed;
      say(kProgram, std::string("reading input: ") + std::strerror(reader.error()));
      break;
    }
    ++number;
    const std::string_view line = trim_line(text);
    if (line.empty()) continue;
    ++counts.lines;
    if (auto why = json_error(line)) {
      ++counts.failed;
      report.failed(number, "not JSON: " + *why);
      continue;
    }
    sending = number;
    settled_in_send = false;
    auto ticket = publisher.send(a.exchange, a.routing_key, line, a.envelope, per_message);
    sending = 0;
    if (!ticket) {
      ++counts.failed;
      report.failed(number, ticket.error().text);
      continue;
    }
    ++counts.published;
    if (!settled_in_send) line_of.emplace(*ticket, number);
  }
  (void)publisher.wait();  // failures were reported through on_outcome
  publisher.close();
  say(kProgram, summary_text(counts));
  return counts;
}

}  // namespace pulse::tools
