#pragma once
// Buffered output for a stream of lines: appended under a lock and written in large chunks,
// so printing costs one write(2) per many messages; flush() empties the buffer.
#include <cstddef>
#include <mutex>
#include <string>

namespace pulse::tools {

class LineWriter {
 public:
  explicit LineWriter(int fd, size_t flush_bytes = 64 * 1024)
      : fd_(fd), flush_bytes_(flush_bytes) {}

  // Calls fill(buffer) to append; writes once the buffer holds flush_bytes.
  template <class Fill>
  void append(Fill&& fill) {
    std::lock_guard lock(mu_);
    fill(buffer_);
    if (buffer_.size() >= flush_bytes_) write_locked();
  }
  // Writes whatever is buffered. False once a write has failed.
  bool flush();
  // A write failed (EPIPE: the reader went away); later output is dropped.
  bool failed() const;
  // errno of the failed write.
  int error() const;

 private:
  void write_locked();

  const int fd_;
  const size_t flush_bytes_;
  mutable std::mutex mu_;
  std::string buffer_;
  int error_ = 0;
};

}  // namespace pulse::tools
