#include "line_writer.h"

#include <unistd.h>

#include <cerrno>

namespace pulse::tools {

bool LineWriter::flush() {
  std::lock_guard lock(mu_);
  if (!buffer_.empty()) write_locked();
  return error_ == 0;
}

bool LineWriter::failed() const {
  std::lock_guard lock(mu_);
  return error_ != 0;
}

int LineWriter::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void LineWriter::write_locked() {
  size_t done = 0;
  while (error_ == 0 && done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = errno;
    } else {
      done += static_cast<size_t>(n);
    }
  }
  buffer_.clear();
}

}  // namespace pulse::tools
