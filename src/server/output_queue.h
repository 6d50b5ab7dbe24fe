#pragma once
// What one connection has yet to write: encoded frames, plus large message bodies held by
// reference. A body of kShareMin bytes or more is never copied into the output: its frames point
// into the message itself (which the queue keeps alive until written), and the socket gets them
// with one gathered write. A 1 MiB message fanned out to 100 consumers on 100 connections then
// costs 1 MiB, not 101, and no memcpy per delivery.
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::server {

class OutputQueue {
 public:
  // Smaller bodies are cheaper to copy than to track.
  static constexpr size_t kShareMin = 8192;

  // Encoded bytes are appended here (frames, small bodies).
  std::string& bytes() { return tail_; }
  // `data` goes out from where it is; `keep` owns it until then.
  void append_shared(std::shared_ptr<const void> keep, std::string_view data);

  size_t size() const { return queued_ + tail_.size(); }
  bool empty() const { return size() == 0; }
  // True when everything is in one contiguous buffer (the common case: no shared bodies).
  bool contiguous() const { return pieces_.empty(); }

  // The bytes in order, for one gathered write; valid until the queue changes.
  const std::vector<boost::asio::const_buffer>& buffers();
  // Forgets everything (after a write), keeping one buffer's capacity up to `keep_capacity`.
  void clear(size_t keep_capacity);
  void swap(OutputQueue& o) noexcept;

 private:
  struct Piece {
    std::string bytes;                 // encoded bytes, or empty for a shared piece
    std::shared_ptr<const void> keep;  // owner of `shared`
    std::string_view shared;
  };
  std::vector<Piece> pieces_;  // everything before tail_
  std::string tail_;
  size_t queued_ = 0;  // bytes in pieces_
  std::vector<boost::asio::const_buffer> buffers_;
};

}  // namespace pulse::server
