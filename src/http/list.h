#pragma once
// RabbitMQ's list query parameters (rabbit_mgmt_util:reply_list): sort (a column, dotted for
// nested fields), sort_reverse, columns (comma-separated, dotted), and with `page`: page_size
// (1..500, default 100), name (case-insensitive substring, or a regex with use_regex=true) and
// the paged response shape {filtered_count, item_count, items, page, page_count, page_size,
// total_count}.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "http/message.h"

namespace pulse::http {

struct ListSpec {
  std::vector<std::string> default_sort;  // e.g. {"vhost", "name"}
  std::string name_key = "name";          // field the `name` filter applies to
};

Response reply_list(const Request& req, nlohmann::json items, const ListSpec& spec);

// Keeps only `columns` (dotted paths) of one object.
nlohmann::json select_columns(const nlohmann::json& item, const std::vector<std::string>& columns);

}  // namespace pulse::http
