#pragma once
// Buffered output for a stream of lines, written in large chunks so that printing costs one
// write(2) per many messages. Single-threaded: pulse-listen's consumer thread owns it.
#include <cstddef>
#include <string>

namespace pulse::tools {

class LineWriter {
 public:
  explicit LineWriter(int fd, size_t flush_bytes = 64 * 1024)
      : fd_(fd), flush_bytes_(flush_bytes) {}

  // Where to append; call maybe_flush() after appending.
  std::string& buffer() { return buffer_; }
  // Writes once the buffer holds flush_bytes.
  void maybe_flush() {
    if (buffer_.size() >= flush_bytes_) flush();
  }
  // Writes whatever is buffered. False once a write has failed.
  bool flush();
  // A write failed (EPIPE: the reader went away); later output is dropped.
  bool failed() const { return error_ != 0; }
  // errno of the failed write.
  int error() const { return error_; }

 private:
  const int fd_;
  const size_t flush_bytes_;
  std::string buffer_;
  int error_ = 0;
};

}  // namespace pulse::tools
