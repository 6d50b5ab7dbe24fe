#include "http/list.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

namespace pulse::http {
namespace {

using nlohmann::json;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t next = s.find(sep, pos);
    if (next == std::string::npos) next = s.size();
    if (next > pos) out.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

const json* lookup(const json& item, const std::vector<std::string>& path) {
  const json* cur = &item;
  for (const auto& p : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(p);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

// Erlang term order as RabbitMQ sorts: numbers < atoms (null) < strings; missing sorts first.
int rank(const json* v) {
  if (v == nullptr) return 0;
  if (v->is_number()) return 1;
  if (v->is_null() || v->is_boolean()) return 2;
  return 3;
}

bool less(const json* a, const json* b) {
  int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb;
  if (ra == 0) return false;
  if (ra == 1) return a->get<double>() < b->get<double>();
  if (a->is_string() && b->is_string())
    return a->get_ref<const std::string&>() < b->get_ref<const std::string&>();
  return a->dump() < b->dump();
}

bool contains_caseless(const std::string& hay, const std::string& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
  return it != hay.end();
}

bool parse_int(const std::string& s, long& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  out = std::stol(s);
  return true;
}

}  // namespace

json select_columns(const json& item, const std::vector<std::string>& columns) {
  json out = json::object();
  for (const auto& col : columns) {
    auto path = split(col, '.');
    if (path.empty()) continue;
    const json* v = lookup(item, path);
    if (v == nullptr) {
      // RabbitMQ keeps the existing parent object of a missing nested key.
      if (path.size() > 1) {
        const json* parent = lookup(item, {path.begin(), path.end() - 1});
        if (parent != nullptr && parent->is_object()) {
          json* dst = &out;
          for (size_t i = 0; i + 1 < path.size(); ++i) {
            if (!dst->contains(path[i])) (*dst)[path[i]] = json::object();
            dst = &(*dst)[path[i]];
          }
        }
      }
      continue;
    }
    json* dst = &out;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      if (!dst->contains(path[i]) || !(*dst)[path[i]].is_object()) (*dst)[path[i]] = json::object();
      dst = &(*dst)[path[i]];
    }
    (*dst)[path.back()] = *v;
  }
  return out;
}

Response reply_list(const Request& req, json items, const ListSpec& spec) {
  // Sort.
  std::vector<std::vector<std::string>> keys;
  if (const std::string* s = req.param("sort"); s && !s->empty()) {
    keys.push_back(split(*s, '.'));
  } else {
    for (const auto& k : spec.default_sort) keys.push_back(split(k, '.'));
  }
  bool reverse = false;
  if (const std::string* r = req.param("sort_reverse")) reverse = *r == "true";
  auto& arr = items.get_ref<json::array_t&>();
  if (!keys.empty()) {
    std::stable_sort(arr.begin(), arr.end(), [&](const json& a, const json& b) {
      for (const auto& k : keys) {
        const json* va = lookup(a, k);
        const json* vb = lookup(b, k);
        if (less(va, vb)) return true;
        if (less(vb, va)) return false;
      }
      return false;
    });
  }
  if (reverse) std::reverse(arr.begin(), arr.end());

  std::vector<std::string> columns;
  if (const std::string* c = req.param("columns"); c && !c->empty()) columns = split(*c, ',');
  auto project = [&](json& a) {
    if (columns.empty()) return;
    for (auto& it : a) it = select_columns(it, columns);
  };

  const std::string* page_param = req.param("page");
  if (page_param == nullptr) {
    project(items);
    return json_response(items);
  }
  long page = 0, page_size = 100;
  if (!parse_int(*page_param, page)) return bad_request("Pagination parameters are invalid");
  if (const std::string* ps = req.param("page_size"); ps && !parse_int(*ps, page_size))
    return bad_request("Pagination parameters are invalid");
  if (page < 1 || page_size < 1 || page_size > 500)
    return error_response(400, "invalid_pagination_parameters",
                          "Invalid pagination parameters: page number " + std::to_string(page) +
                              ", page size " + std::to_string(page_size));
  size_t total = arr.size();
  if (const std::string* name = req.param("name"); name && !name->empty()) {
    bool regex = false;
    if (const std::string* r = req.param("use_regex")) regex = *r == "true";
    std::unique_ptr<RE2> re;
    if (regex) {
      RE2::Options o;
      o.set_case_sensitive(false);
      o.set_log_errors(false);
      re = std::make_unique<RE2>(*name, o);
      if (!re->ok()) return bad_request("invalid regex: " + re->error());
    }
    json::array_t kept;
    for (auto& it : arr) {
      const json* n = lookup(it, {spec.name_key});
      if (n == nullptr || !n->is_string()) continue;
      const std::string& s = n->get_ref<const std::string&>();
      if (regex ? RE2::PartialMatch(s, *re) : contains_caseless(s, *name))
        kept.push_back(std::move(it));
    }
    arr = std::move(kept);
  }
  size_t filtered = arr.size();
  size_t page_count = (filtered + page_size - 1) / page_size;
  size_t start = static_cast<size_t>(page - 1) * page_size;
  if (start > filtered || (page > 1 && start == filtered))
    return error_response(400, "page_out_of_range",
                          "Page out of range, page: " + std::to_string(page) + " page size: " +
                              std::to_string(page_size) + ", len: " + std::to_string(filtered));
  size_t end = std::min(filtered, start + page_size);
  json page_items(json::array_t(std::make_move_iterator(arr.begin() + start),
                                std::make_move_iterator(arr.begin() + end)));
  project(page_items);
  json out = {{"filtered_count", filtered},
              {"item_count", end - start},
              {"items", std::move(page_items)},
              {"page", page},
              {"page_count", page_count},
              {"page_size", page_size},
              {"total_count", total}};
  return json_response(out);
}

}  // namespace pulse::http
