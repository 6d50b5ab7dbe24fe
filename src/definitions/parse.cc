// parse_definitions: RabbitMQ's definitions JSON into the model, one reader per section.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "amqp/field_table_json.h"
#include "auth/password.h"
#include "definitions/json.h"

namespace pulse::definitions {
namespace {

using nlohmann::json;

Error def_error(std::string msg) {
  return Error{0, "invalid definitions: " + std::move(msg)};
}

// Reads fields of one entry, remembering the first problem so each parser reads linearly.
class EntryReader {
 public:
  EntryReader(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j.is_object()) err_ = "must be an object";
  }

  std::string str(const char* key, bool required = true, std::string def = {}) {
    const json* v = field(key, required);
    if (v == nullptr) return def;
    if (!v->is_string()) return fail(key, "must be a string"), def;
    return v->get<std::string>();
  }
  bool boolean(const char* key, bool def) {
    const json* v = field(key, false);
    if (v == nullptr) return def;
    if (!v->is_boolean()) return fail(key, "must be a boolean"), def;
    return v->get<bool>();
  }
  int64_t integer(const char* key, int64_t def) {
    const json* v = field(key, false);
    if (v == nullptr) return def;
    if (!v->is_number_integer()) return fail(key, "must be an integer"), def;
    return v->get<int64_t>();
  }
  amqp::FieldTable table(const char* key) {
    const json* v = field(key, false);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_object()) return fail(key, "must be an object"), amqp::FieldTable{};
    auto fv = amqp::json_to_field_value(*v);
    if (!fv.ok()) return fail(key, std::move(fv).error().text), amqp::FieldTable{};
    return std::move(*std::get_if<amqp::FieldTable>(&fv.value().v));
  }
  // "a,b" (RabbitMQ before 3.9) or ["a","b"].
  std::vector<std::string> list(const char* key) {
    std::vector<std::string> out;
    const json* v = field(key, false);
    if (v == nullptr || v->is_null()) return out;
    if (v->is_string()) {
      std::string_view s = v->get_ref<const std::string&>();
      while (!s.empty()) {
        size_t comma = s.find(',');
        std::string_view item = s.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        s.remove_prefix(comma == std::string_view::npos ? s.size() : comma + 1);
      }
      return out;
    }
    if (!v->is_array()) return fail(key, "must be a string or a list of strings"), out;
    for (const json& e : *v) {
      if (!e.is_string()) return fail(key, "must be a list of strings"), out;
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  const json* raw(const char* key) { return field(key, false); }

  Status status() const {
    if (err_.empty()) return ok_status();
    return def_error(where_ + ": " + err_);
  }

 private:
  const json* field(const char* key, bool required) {
    if (!err_.empty()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) fail(key, "is missing");
      return nullptr;
    }
    return &*it;
  }
  void fail(const char* key, std::string why) {
    if (err_.empty()) err_ = "'" + std::string(key) + "' " + why;
  }

  const json& j_;
  std::string where_;
  std::string err_;
};

// "queues[3] ('q1' in vhost '/')": enough to find the entry in a large export.
std::string label(std::string_view section, size_t i, const json& j, const char* name_key) {
  std::string s = std::string(section) + "[" + std::to_string(i) + "]";
  if (!j.is_object()) return s;
  auto n = j.find(name_key);
  auto v = j.find("vhost");
  bool has_name = n != j.end() && n->is_string();
  bool has_vhost = v != j.end() && v->is_string();
  if (has_name || has_vhost) {
    s += " (";
    if (has_name) s += "'" + n->get<std::string>() + "'";
    if (has_vhost)
      s += std::string(has_name ? " " : "") + "in vhost '" + v->get<std::string>() + "'";
    s += ")";
  }
  return s;
}

// RabbitMQ assumes MD5 for hashes without an algorithm in exports older than 3.6.0.
bool is_pre_3_6(std::string_view version) {
  int major = 0, minor = 0;
  if (std::sscanf(std::string(version).c_str(), "%d.%d", &major, &minor) != 2) return false;
  return major < 3 || (major == 3 && minor < 6);
}

template <typename T, typename F>
Status parse_section(const json& root, const char* section, const char* name_key,
                     std::vector<T>& out, F&& read_one) {
  auto it = root.find(section);
  if (it == root.end() || it->is_null()) return ok_status();
  if (!it->is_array()) return def_error("'" + std::string(section) + "' must be a list");
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& j = (*it)[i];
    EntryReader r(j, label(section, i, j, name_key));
    T item = read_one(r);
    if (Status s = r.status(); !s.ok()) return s;
    out.push_back(std::move(item));
  }
  return ok_status();
}

User read_user(EntryReader& r, const std::string& default_algorithm) {
  User u;
  u.name = r.str("name");
  u.password_hash = r.str("password_hash", false);
  u.hashing_algorithm = r.str("hashing_algorithm", false, default_algorithm);
  if (r.raw("password") != nullptr) u.password = r.str("password");
  u.tags = r.list("tags");
  if (const json* l = r.raw("limits")) u.limits = *l;
  return u;
}

Vhost read_vhost(EntryReader& r) {
  Vhost v;
  v.name = r.str("name");
  v.description = r.str("description", false);
  v.tags = r.list("tags");
  if (const json* m = r.raw("metadata"); m != nullptr && m->is_object()) {
    EntryReader meta(*m, "metadata");
    v.default_queue_type = meta.str("default_queue_type", false);
    if (v.description.empty()) v.description = meta.str("description", false);
    if (v.tags.empty()) v.tags = meta.list("tags");
  }
  return v;
}

Permission read_permission(EntryReader& r) {
  return Permission{.user = r.str("user"),
                    .vhost = r.str("vhost"),
                    .configure = r.str("configure"),
                    .write = r.str("write"),
                    .read = r.str("read")};
}

TopicPermission read_topic_permission(EntryReader& r) {
  return TopicPermission{.user = r.str("user"),
                         .vhost = r.str("vhost"),
                         .exchange = r.str("exchange"),
                         .write = r.str("write"),
                         .read = r.str("read")};
}

Parameter read_parameter(EntryReader& r) {
  Parameter p{
      .vhost = r.str("vhost"), .component = r.str("component"), .name = r.str("name"), .value = {}};
  if (const json* v = r.raw("value")) p.value = *v;
  return p;
}

GlobalParameter read_global_parameter(EntryReader& r) {
  GlobalParameter p{.name = r.str("name"), .value = {}};
  if (const json* v = r.raw("value")) p.value = *v;
  return p;
}

Policy read_policy(EntryReader& r) {
  Policy p;
  p.vhost = r.str("vhost");
  p.name = r.str("name");
  p.pattern = r.str("pattern");
  p.apply_to = r.str("apply-to", false, "all");
  p.definition = r.table("definition");
  p.priority = r.integer("priority", 0);
  return p;
}

Queue read_queue(EntryReader& r) {
  Queue q;
  q.name = r.str("name");
  q.vhost = r.str("vhost");
  q.durable = r.boolean("durable", true);
  q.auto_delete = r.boolean("auto_delete", false);
  q.type = r.str("type", false);
  q.arguments = r.table("arguments");
  return q;
}

Exchange read_exchange(EntryReader& r) {
  Exchange x;
  x.name = r.str("name");
  x.vhost = r.str("vhost");
  x.type = r.str("type");
  x.durable = r.boolean("durable", true);
  x.auto_delete = r.boolean("auto_delete", false);
  x.internal = r.boolean("internal", false);
  x.arguments = r.table("arguments");
  return x;
}

// The destination type is checked after the whole section read, as before the model existed:
// a missing field is reported first, with the entry's label.
struct RawBinding {
  Binding binding;
  std::string destination_type;
};

RawBinding read_binding(EntryReader& r) {
  RawBinding rb;
  Binding& b = rb.binding;
  b.source = r.str("source");
  b.vhost = r.str("vhost");
  b.destination = r.str("destination");
  rb.destination_type = r.str("destination_type");
  b.routing_key = r.str("routing_key", false);
  b.arguments = r.table("arguments");
  return rb;
}

Status read_bindings(const json& root, std::vector<Binding>& out) {
  std::vector<RawBinding> raw;
  if (auto s = parse_section(root, "bindings", "source", raw, read_binding); !s) return s;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& t = raw[i].destination_type;
    if (t != "queue" && t != "exchange") {
      return def_error("bindings[" + std::to_string(i) + "]: 'destination_type' must be " +
                       "\"queue\" or \"exchange\", not '" + t + "'");
    }
    raw[i].binding.destination_kind =
        t == "exchange" ? DestinationKind::kExchange : DestinationKind::kQueue;
    out.push_back(std::move(raw[i].binding));
  }
  return ok_status();
}

std::string version_of(const json& root) {
  for (const char* key : {"rabbit_version", "rabbitmq_version"}) {
    auto it = root.find(key);
    if (it != root.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      return it->get<std::string>();
  }
  return {};
}

}  // namespace

Result<Definitions> parse_definitions(std::string_view json_text) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number no double holds (1e400).
    return def_error(std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) return def_error("top level must be a JSON object");

  Definitions d;
  d.rabbit_version = version_of(root);
  const std::string default_alg(is_pre_3_6(d.rabbit_version) ? auth::kMd5Name : auth::kSha256Name);
  // Sections are read in this order so that the first error reported is the same as always.
  Status s = parse_section(root, "users", "name", d.users,
                           [&](EntryReader& r) { return read_user(r, default_alg); });
  if (s) s = parse_section(root, "vhosts", "name", d.vhosts, read_vhost);
  if (s) s = parse_section(root, "permissions", "user", d.permissions, read_permission);
  if (s) {
    s = parse_section(root, "topic_permissions", "user", d.topic_permissions,
                      read_topic_permission);
  }
  if (s) s = parse_section(root, "parameters", "name", d.parameters, read_parameter);
  if (s) {
    s = parse_section(root, "global_parameters", "name", d.global_parameters,
                      read_global_parameter);
  }
  if (s) s = parse_section(root, "policies", "name", d.policies, read_policy);
  if (s) s = parse_section(root, "queues", "name", d.queues, read_queue);
  if (s) s = parse_section(root, "exchanges", "name", d.exchanges, read_exchange);
  if (s) s = read_bindings(root, d.bindings);
  if (!s) return std::move(s).error();
  return d;
}

Result<Definitions> load_definitions_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return def_error("cannot read definitions file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  auto d = parse_definitions(ss.str());
  if (!d.ok()) return Error{0, path + ": " + std::move(d).error().text};
  return d;
}

}  // namespace pulse::definitions
