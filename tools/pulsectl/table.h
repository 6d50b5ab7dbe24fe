#pragma once
// Column selection over API objects (dotted paths such as message_stats.publish) and the
// aligned text table pulsectl prints by default.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pulse::ctl {

// "name,messages, message_stats.publish" -> {"name", "messages", "message_stats.publish"}.
std::vector<std::string> split_columns(const std::string& list);

// The value at a dotted path, or nullptr. A key that itself contains dots matches whole first.
const nlohmann::json* lookup(const nlohmann::json& object, const std::string& dotted);

// A cell: strings as they are, numbers and booleans as JSON prints them, null and absent as
// empty, lists of strings joined with ",", anything else as compact JSON.
std::string cell_text(const nlohmann::json* value);

// The rows cut down to the columns, keeping the API's nesting ("queue.name" -> {"queue":
// {"name": ...}}) as the API's own `columns` parameter does; absent fields are left out.
nlohmann::json project(const nlohmann::json& rows, const std::vector<std::string>& columns);

// Header plus one line per row, columns separated by two spaces, numbers right-aligned.
std::string render_table(const nlohmann::json& rows, const std::vector<std::string>& columns,
                         bool header);

// The columns no row has a value for (likely misspelt).
std::vector<std::string> missing_columns(const nlohmann::json& rows,
                                         const std::vector<std::string>& columns);

}  // namespace pulse::ctl
