#include "server/output_queue.h"

#include <utility>

namespace pulse::server {

void OutputQueue::append_shared(std::shared_ptr<const void> keep, std::string_view data) {
  if (data.empty()) return;
  if (!tail_.empty()) {
    queued_ += tail_.size();
    pieces_.push_back(Piece{std::move(tail_), nullptr, {}});
    tail_ = std::string();
  }
  queued_ += data.size();
  pieces_.push_back(Piece{{}, std::move(keep), data});
}

const std::vector<boost::asio::const_buffer>& OutputQueue::buffers() {
  buffers_.clear();
  for (const Piece& p : pieces_) {
    if (p.keep) {
      buffers_.emplace_back(p.shared.data(), p.shared.size());
    } else {
      buffers_.emplace_back(p.bytes.data(), p.bytes.size());
    }
  }
  if (!tail_.empty()) buffers_.emplace_back(tail_.data(), tail_.size());
  return buffers_;
}

void OutputQueue::clear(size_t keep_capacity) {
  pieces_.clear();
  queued_ = 0;
  tail_.clear();
  // Keep a moderately sized buffer around; drop huge ones after a burst.
  if (tail_.capacity() > keep_capacity) std::string().swap(tail_);
  buffers_.clear();
}

void OutputQueue::swap(OutputQueue& o) noexcept {
  pieces_.swap(o.pieces_);
  tail_.swap(o.tail_);
  std::swap(queued_, o.queued_);
}

}  // namespace pulse::server
