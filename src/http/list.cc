#include "http/list.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "http/api.h"

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

namespace {

// Copies the value at `path` (dotted column) of `item` into `out`.
void project_column(const json& item, const std::vector<std::string>& path, json& out) {
  if (path.empty()) return;
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
    return;
  }
  json* dst = &out;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!dst->contains(path[i]) || !(*dst)[path[i]].is_object()) (*dst)[path[i]] = json::object();
    dst = &(*dst)[path[i]];
  }
  (*dst)[path.back()] = *v;
}

}  // namespace

ListBuilder::TextStore::Span ListBuilder::TextStore::add(std::string_view text) {
  constexpr size_t kBlock = 1 << 20;
  if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < text.size()) {
    blocks_.emplace_back();
    blocks_.back().reserve(std::max(kBlock, text.size()));
  }
  std::string& b = blocks_.back();
  Span s{static_cast<uint32_t>(blocks_.size() - 1), static_cast<uint32_t>(b.size()),
         static_cast<uint32_t>(text.size())};
  b += text;
  return s;
}

ListBuilder::ListBuilder(const Request& req, const ListSpec& spec) : name_key_(spec.name_key) {
  if (const std::string* s = req.param("sort"); s && !s->empty()) {
    sort_keys_.push_back(split(*s, '.'));
  } else {
    for (const auto& k : spec.default_sort) sort_keys_.push_back(split(k, '.'));
  }
  if (const std::string* r = req.param("sort_reverse")) reverse_ = *r == "true";
  if (const std::string* c = req.param("columns"); c && !c->empty())
    for (const auto& col : split(*c, ',')) columns_.push_back(split(col, '.'));
  const std::string* page_param = spec.pageable ? req.param("page") : nullptr;
  if (page_param == nullptr) return;
  paged_ = true;
  if (!parse_int(*page_param, page_)) {
    error_ = bad_request("Pagination parameters are invalid");
    return;
  }
  const std::string* ps = req.param("page_size");
  if (ps && !parse_int(*ps, page_size_)) {
    error_ = bad_request("Pagination parameters are invalid");
    return;
  }
  if (page_ < 1 || page_size_ < 1 || page_size_ > 500) {
    // RabbitMQ prints the parameter as given: "undefined" when it was left out.
    error_ = error_response(400, "invalid_pagination_parameters",
                            "Invalid pagination parameters: page number " + std::to_string(page_) +
                                ", page size " + (ps ? std::to_string(page_size_) : "undefined"));
    return;
  }
  if (const std::string* name = req.param("name"); name && !name->empty()) {
    name_filter_ = *name;
    if (const std::string* r = req.param("use_regex"); r && *r == "true") {
      RE2::Options o;
      o.set_case_sensitive(false);
      o.set_log_errors(false);
      regex_ = std::make_shared<RE2>(*name, o);
      if (!regex_->ok()) error_ = bad_request("invalid regex: " + regex_->error());
    }
  }
}

void ListBuilder::add(const json& item) {
  auto key_of = [&](const json* v) {
    Key k;
    if (v == nullptr) return k;
    if (v->is_number()) {
      k.rank = 1;
      k.number = v->get<double>();
      return k;
    }
    k.rank = v->is_null() || v->is_boolean() ? 2 : 3;
    k.text = keys_.add(v->is_string() ? v->get_ref<const std::string&>() : dump_json(*v));
    return k;
  };
  for (const auto& path : sort_keys_) item_keys_.push_back(key_of(lookup(item, path)));
  const json* name = lookup(item, {name_key_});
  item_keys_.push_back(key_of(name != nullptr && name->is_string() ? name : nullptr));
  if (columns_.empty()) {
    items_.push_back(texts_.add(dump_json(item)));
  } else {
    json out = json::object();
    for (const auto& path : columns_) project_column(item, path, out);
    items_.push_back(texts_.add(dump_json(out)));
  }
}

void project_object_columns(const Request& req, Response& r) {
  const std::string* c = req.param("columns");
  if (c == nullptr || c->empty() || req.method != "GET" || r.status != 200 || r.columns_applied ||
      r.body.empty() || r.body.front() != '{')
    return;
  json obj = json::parse(r.body, nullptr, false);
  if (!obj.is_object()) return;
  json out = json::object();
  for (const auto& col : split(*c, ',')) project_column(obj, split(col, '.'), out);
  r.body = dump_json(out);
}

bool ListBuilder::before(size_t a, size_t b) const {
  const size_t stride = sort_keys_.size() + 1;
  for (size_t j = 0; j < sort_keys_.size(); ++j) {
    const Key& x = item_keys_[a * stride + j];
    const Key& y = item_keys_[b * stride + j];
    if (x.rank != y.rank) return x.rank < y.rank;
    if (x.rank == 0) continue;
    if (x.rank == 1) {
      if (x.number != y.number) return x.number < y.number;
      continue;
    }
    int c = key_text(x).compare(key_text(y));
    if (c != 0) return c < 0;
  }
  return false;
}

bool ListBuilder::name_matches(size_t i) const {
  const Key& k = item_keys_[i * (sort_keys_.size() + 1) + sort_keys_.size()];
  if (k.rank != 3) return false;
  std::string_view n = key_text(k);
  if (regex_) return RE2::PartialMatch(n, *regex_);
  return contains_caseless(std::string(n), name_filter_);
}

Response ListBuilder::finish() {
  if (error_) return *error_;
  const size_t total = items_.size();
  std::vector<size_t> order;
  order.reserve(total);
  for (size_t i = 0; i < total; ++i)
    if (name_filter_.empty() || name_matches(i)) order.push_back(i);
  auto less = [this](size_t a, size_t b) { return before(a, b); };
  // Listings usually arrive in order already; then nothing moves.
  if (!sort_keys_.empty() && !std::is_sorted(order.begin(), order.end(), less))
    std::stable_sort(order.begin(), order.end(), less);
  if (reverse_) std::reverse(order.begin(), order.end());

  size_t start = 0, end = order.size();
  const size_t filtered = order.size();
  if (paged_) {
    start = static_cast<size_t>(page_ - 1) * page_size_;
    if (start > filtered || (page_ > 1 && start == filtered))
      return error_response(400, "page_out_of_range",
                            "Page out of range, page: " + std::to_string(page_) + " page size: " +
                                std::to_string(page_size_) + ", len: " + std::to_string(filtered));
    end = std::min(filtered, start + page_size_);
  }
  size_t size = 2;
  for (size_t i = start; i < end; ++i) size += items_[order[i]].len + 1;
  std::string items;
  items.reserve(size);
  items += '[';
  for (size_t i = start; i < end; ++i) {
    if (i > start) items += ',';
    items += texts_.view(items_[order[i]]);
  }
  items += ']';
  Response r;
  r.columns_applied = true;
  if (!paged_) {
    r.body = std::move(items);
    return r;
  }
  // nlohmann's key order (alphabetical), with the items spliced in as they are.
  r.body = "{\"filtered_count\":" + std::to_string(filtered) +
           ",\"item_count\":" + std::to_string(end - start) + ",\"items\":" + items +
           ",\"page\":" + std::to_string(page_) +
           ",\"page_count\":" + std::to_string((filtered + page_size_ - 1) / page_size_) +
           ",\"page_size\":" + std::to_string(page_size_) +
           ",\"total_count\":" + std::to_string(total) + "}";
  return r;
}

Response reply_list(const Request& req, json items, const ListSpec& spec) {
  ListBuilder list(req, spec);
  if (list.error()) return *list.error();
  for (const auto& item : items) list.add(item);
  return list.finish();
}

Response reply_list_sliced(const Call& c, ListSpec spec, std::function<bool(json& items)> step) {
  return reply_list_sliced(c, c.req, std::move(spec), std::move(step));
}

Response reply_list_sliced(const Call& c, const Request& req, ListSpec spec,
                           std::function<bool(json& items)> step) {
  auto list = std::make_shared<ListBuilder>(req, spec);
  if (list->error()) return *list->error();
  Scheduler& s = c.api.scheduler();
  run_sliced(
      s,
      [list, step = std::move(step)] {
        json items = json::array();
        bool more = step(items);
        for (const auto& item : items) list->add(item);
        return more;
      },
      [&s, list, respond = c.respond] {
        answer_from_worker(s, respond, [list] { return list->finish(); });
      });
  return deferred();
}

}  // namespace pulse::http
