#pragma once
// Lines from a file descriptor (stdin, or the --file) with a timeout, so that pulse-publish can
// keep its connection alive (confirms, heartbeats, recovery) while a slow or interactive
// producer has not written the next line yet.
#include <chrono>
#include <string>
#include <string_view>

namespace pulse::tools {

class LineReader {
 public:
  enum class Next {
    kLine,   // `line` holds the next line, without its '\n'
    kIdle,   // no complete line arrived within the timeout
    kEnd,    // end of input (a last line without '\n' came as kLine before)
    kError,  // read(2) failed; error() has errno
  };

  explicit LineReader(int fd) : fd_(fd) {}

  // The next line, waiting at most `timeout` for input. `line` stays valid until the next call.
  Next next(std::string_view& line, std::chrono::milliseconds timeout);
  int error() const { return error_; }

 private:
  // A complete line in the buffer, from start_ on.
  bool take_line(std::string_view& line);

  const int fd_;
  std::string buffer_;
  size_t start_ = 0;  // first unread byte of buffer_
  bool eof_ = false;
  int error_ = 0;
};

}  // namespace pulse::tools
