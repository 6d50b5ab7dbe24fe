#include "line_writer.h"

#include <unistd.h>

#include <cerrno>

namespace pulse::tools {

bool LineWriter::flush() {
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
  return error_ == 0;
}

}  // namespace pulse::tools
