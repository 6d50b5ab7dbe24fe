#include "line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace pulse::tools {

namespace {
constexpr size_t kReadChunk = 64 * 1024;
}

bool LineReader::take_line(std::string_view& line) {
  const size_t nl = buffer_.find('\n', start_);
  if (nl == std::string::npos) {
    if (!eof_ || start_ == buffer_.size()) return false;
    line = std::string_view(buffer_).substr(start_);  // the last line, without '\n'
    start_ = buffer_.size();
    return true;
  }
  line = std::string_view(buffer_).substr(start_, nl - start_);
  start_ = nl + 1;
  return true;
}

LineReader::Next LineReader::next(std::string_view& line, std::chrono::milliseconds timeout) {
  if (take_line(line)) return Next::kLine;
  if (eof_) return Next::kEnd;
  if (error_ != 0) return Next::kError;
  // Drop what was consumed before reading more (the caller is done with the previous line).
  buffer_.erase(0, start_);
  start_ = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready < 0 && errno != EINTR) {
      error_ = errno;
      return Next::kError;
    }
    if (ready <= 0) {
      if (left.count() <= 0) return Next::kIdle;
      continue;
    }
    const size_t old = buffer_.size();
    buffer_.resize(old + kReadChunk);
    const ssize_t n = ::read(fd_, buffer_.data() + old, kReadChunk);
    buffer_.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      error_ = errno;
      return Next::kError;
    }
    if (n == 0) eof_ = true;
    if (take_line(line)) return Next::kLine;
    if (eof_) return Next::kEnd;
  }
}

}  // namespace pulse::tools
