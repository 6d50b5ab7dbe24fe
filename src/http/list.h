#pragma once
// RabbitMQ's list query parameters (rabbit_mgmt_util:reply_list): sort (a column, dotted for
// nested fields), sort_reverse, columns (comma-separated, dotted), and with `page`: page_size
// (1..500, default 100), name (case-insensitive substring, or a regex with use_regex=true) and
// the paged response shape {filtered_count, item_count, items, page, page_count, page_size,
// total_count}.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace re2 {
class RE2;
}

namespace pulse::http {

using re2::RE2;
struct Call;

struct ListSpec {
  std::vector<std::string> default_sort;  // e.g. {"vhost", "name"}
  std::string name_key = "name";          // field the `name` filter applies to
  // RabbitMQ 3.10 pages only the queue, exchange, vhost, connection and channel listings;
  // every other list ignores `page` (and `name`) and is answered as a plain array.
  bool pageable = false;
};

// A list being built: each item is reduced as it is added to its serialised text (projected
// to `columns`) and its sort and filter keys, all kept in a few flat buffers, so 100k queues
// cost their text and a few bytes, not a JSON tree, and freeing them costs nothing.
class ListBuilder {
 public:
  ListBuilder(const Request& req, const ListSpec& spec);
  // A bad list parameter (pagination, regex): the 400 to answer instead of the list.
  const std::optional<Response>& error() const { return error_; }
  void add(const nlohmann::json& item);
  // Filters, sorts, pages and assembles the reply.
  Response finish();

 private:
  // Texts in blocks that are never reallocated: one growing buffer of 80 MB would copy itself
  // on the loop each time it doubles.
  class TextStore {
   public:
    struct Span {
      uint32_t block = 0, off = 0, len = 0;
    };
    Span add(std::string_view text);
    std::string_view view(Span s) const { return {blocks_[s.block].data() + s.off, s.len}; }

   private:
    std::deque<std::string> blocks_;
  };
  struct Key {
    int rank = 0;  // Erlang term order: missing < number < atom (null, bool) < string
    double number = 0;
    TextStore::Span text;  // of non-numbers
  };
  std::string_view key_text(const Key& k) const { return keys_.view(k.text); }
  bool before(size_t a, size_t b) const;
  bool name_matches(size_t i) const;

  std::vector<std::vector<std::string>> sort_keys_, columns_;
  std::string name_key_;
  bool reverse_ = false, paged_ = false;
  long page_ = 0, page_size_ = 100;
  std::string name_filter_;
  std::shared_ptr<RE2> regex_;
  std::optional<Response> error_;

  TextStore texts_, keys_;
  std::deque<TextStore::Span> items_;
  std::deque<Key> item_keys_;  // sort_keys_.size() + 1 (the name) per item
};

Response reply_list(const Request& req, nlohmann::json items, const ListSpec& spec);

// `columns` on a GET of one object (a queue, the overview, the definitions...), which RabbitMQ
// honours too: the response's JSON object reduced to those (dotted) fields. Lists (already
// projected item by item: Response::columns_applied) and other responses pass unchanged.
void project_object_columns(const Request& req, Response& r);

// For listings that may be long: `step` appends a few items and returns false once there is
// nothing left; it runs in slices on the loop, then sorting, filtering, paging and
// serialisation run on the worker and the call is answered. Returns deferred().
Response reply_list_sliced(const Call& c, ListSpec spec,
                           std::function<bool(nlohmann::json& items)> step);
// The same with the list parameters of `req` instead of the call's.
Response reply_list_sliced(const Call& c, const Request& req, ListSpec spec,
                           std::function<bool(nlohmann::json& items)> step);

}  // namespace pulse::http
