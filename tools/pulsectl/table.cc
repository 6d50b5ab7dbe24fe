#include "table.h"

#include <algorithm>

namespace pulse::ctl {

using nlohmann::json;

namespace {

// Display width: UTF-8 continuation bytes take no column.
size_t width(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

// Control characters (a newline in a routing key) would break the table's lines.
std::string printable(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return s;
}

}  // namespace

std::vector<std::string> split_columns(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string c = list.substr(start, comma - start);
    c.erase(0, c.find_first_not_of(' '));
    c.erase(c.find_last_not_of(' ') + 1);
    if (!c.empty()) out.push_back(std::move(c));
    start = comma + 1;
  }
  return out;
}

namespace {

// The keys a dotted path walks through, trying the longest key first at each level.
bool resolve(const json& object, const std::string& dotted, std::vector<std::string>& keys) {
  if (!object.is_object()) return false;
  if (object.contains(dotted)) {
    keys.push_back(dotted);
    return true;
  }
  for (size_t dot = dotted.rfind('.'); dot != std::string::npos && dot > 0;
       dot = dotted.rfind('.', dot - 1)) {
    auto head = object.find(dotted.substr(0, dot));
    if (head == object.end()) continue;
    keys.push_back(head.key());
    if (resolve(*head, dotted.substr(dot + 1), keys)) return true;
    keys.pop_back();
  }
  return false;
}

}  // namespace

const json* lookup(const json& object, const std::string& dotted) {
  std::vector<std::string> keys;
  if (!resolve(object, dotted, keys)) return nullptr;
  const json* at = &object;
  for (const auto& k : keys) at = &(*at)[k];
  return at;
}

std::string cell_text(const json* value) {
  if (value == nullptr || value->is_null()) return "";
  if (value->is_string()) return printable(value->get<std::string>());
  if (value->is_array() &&
      std::all_of(value->begin(), value->end(), [](const json& v) { return v.is_string(); })) {
    std::string out;
    for (const auto& v : *value) out += (out.empty() ? "" : ",") + v.get<std::string>();
    return printable(out);
  }
  return printable(value->dump());
}

json project(const json& rows, const std::vector<std::string>& columns) {
  json out = json::array();
  for (const auto& row : rows) {
    json r = json::object();
    for (const auto& c : columns) {
      std::vector<std::string> keys;
      if (!resolve(row, c, keys)) continue;
      // Rebuild the nesting the path walked through.
      json* to = &r;
      const json* from = &row;
      for (size_t i = 0; i + 1 < keys.size(); ++i) {
        from = &(*from)[keys[i]];
        if (!(*to)[keys[i]].is_object()) (*to)[keys[i]] = json::object();
        to = &(*to)[keys[i]];
      }
      (*to)[keys.back()] = (*from)[keys.back()];
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string render_table(const json& rows, const std::vector<std::string>& columns, bool header) {
  std::vector<std::vector<std::string>> cells;
  std::vector<bool> numeric(columns.size(), true);
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (size_t i = 0; i < columns.size(); ++i) {
      const json* v = lookup(row, columns[i]);
      if (v != nullptr && !v->is_null() && !v->is_number()) numeric[i] = false;
      line.push_back(cell_text(v));
    }
    cells.push_back(std::move(line));
  }
  std::vector<size_t> widths(columns.size(), 0);
  for (size_t i = 0; i < columns.size(); ++i) {
    if (header) widths[i] = width(columns[i]);
    for (const auto& line : cells) widths[i] = std::max(widths[i], width(line[i]));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& line) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      const std::string pad(widths[i] - width(line[i]), ' ');
      if (i > 0) text += "  ";
      text += numeric[i] && !rows.empty() ? pad + line[i] : line[i] + pad;
    }
    text.erase(text.find_last_not_of(' ') + 1);
    out += text + "\n";
  };
  if (header) emit(columns);
  for (const auto& line : cells) emit(line);
  return out;
}

std::vector<std::string> missing_columns(const json& rows,
                                         const std::vector<std::string>& columns) {
  std::vector<std::string> out;
  for (const auto& c : columns) {
    if (std::none_of(rows.begin(), rows.end(),
                     [&](const json& row) { return lookup(row, c) != nullptr; })) {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace pulse::ctl
