#include "app/definitions.h"

#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "amqp/field_table_json.h"
#include "auth/password.h"

namespace pulse::app {
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
                     std::vector<T>& out, F&& parse_one) {
  auto it = root.find(section);
  if (it == root.end() || it->is_null()) return ok_status();
  if (!it->is_array()) return def_error("'" + std::string(section) + "' must be a list");
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& j = (*it)[i];
    EntryReader r(j, label(section, i, j, name_key));
    T item = parse_one(r);
    if (Status s = r.status(); !s.ok()) return s;
    out.push_back(std::move(item));
  }
  return ok_status();
}

}  // namespace

Result<amqp::FieldTable> json_to_field_table(const json& object) {
  auto t = amqp::json_to_field_table(object);
  if (!t.ok()) return def_error(std::move(t).error().text);
  return t;
}

json field_table_to_json(const amqp::FieldTable& table) {
  return amqp::field_table_to_json(table);
}

Result<Definitions> parse_definitions(std::string_view json_text) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return def_error(std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) return def_error("top level must be a JSON object");

  Definitions d;
  for (const char* key : {"rabbit_version", "rabbitmq_version"}) {
    if (auto it = root.find(key); it != root.end() && it->is_string() && d.rabbit_version.empty()) {
      d.rabbit_version = it->get<std::string>();
    }
  }
  const std::string default_alg(is_pre_3_6(d.rabbit_version) ? auth::kMd5Name : auth::kSha256Name);
  Status s = parse_section(root, "users", "name", d.users, [&](EntryReader& r) {
    UserDef u;
    u.name = r.str("name");
    u.password_hash = r.str("password_hash", false);
    u.hashing_algorithm = r.str("hashing_algorithm", false, default_alg);
    if (r.raw("password") != nullptr) u.password = r.str("password");
    u.tags = r.list("tags");
    return u;
  });
  if (s.ok()) {
    s = parse_section(root, "vhosts", "name", d.vhosts, [](EntryReader& r) {
      VhostDef v;
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
    });
  }
  if (s.ok()) {
    s = parse_section(root, "permissions", "user", d.permissions, [](EntryReader& r) {
      return PermissionDef{r.str("user"), r.str("vhost"), r.str("configure"), r.str("write"),
                           r.str("read")};
    });
  }
  if (s.ok()) {
    s = parse_section(root, "topic_permissions", "user", d.topic_permissions, [](EntryReader& r) {
      return TopicPermissionDef{r.str("user"), r.str("vhost"), r.str("exchange"), r.str("write"),
                                r.str("read")};
    });
  }
  if (s.ok()) {
    s = parse_section(root, "parameters", "name", d.parameters, [](EntryReader& r) {
      ParameterDef p{r.str("vhost"), r.str("component"), r.str("name"), {}};
      if (const json* v = r.raw("value")) p.value = *v;
      return p;
    });
  }
  if (s.ok()) {
    s = parse_section(root, "global_parameters", "name", d.global_parameters, [](EntryReader& r) {
      GlobalParameterDef p{r.str("name"), {}};
      if (const json* v = r.raw("value")) p.value = *v;
      return p;
    });
  }
  if (s.ok()) {
    s = parse_section(root, "policies", "name", d.policies, [](EntryReader& r) {
      PolicyDef p;
      p.vhost = r.str("vhost");
      p.name = r.str("name");
      p.pattern = r.str("pattern");
      p.apply_to = r.str("apply-to", false, "all");
      p.definition = r.table("definition");
      p.priority = r.integer("priority", 0);
      return p;
    });
  }
  if (s.ok()) {
    s = parse_section(root, "queues", "name", d.queues, [](EntryReader& r) {
      QueueDef q;
      q.name = r.str("name");
      q.vhost = r.str("vhost");
      q.durable = r.boolean("durable", true);
      q.auto_delete = r.boolean("auto_delete", false);
      q.type = r.str("type", false);
      q.arguments = r.table("arguments");
      return q;
    });
  }
  if (s.ok()) {
    s = parse_section(root, "exchanges", "name", d.exchanges, [](EntryReader& r) {
      ExchangeDef x;
      x.name = r.str("name");
      x.vhost = r.str("vhost");
      x.type = r.str("type");
      x.durable = r.boolean("durable", true);
      x.auto_delete = r.boolean("auto_delete", false);
      x.internal = r.boolean("internal", false);
      x.arguments = r.table("arguments");
      return x;
    });
  }
  if (s.ok()) {
    s = parse_section(root, "bindings", "source", d.bindings, [](EntryReader& r) {
      BindingDef b;
      b.source = r.str("source");
      b.vhost = r.str("vhost");
      b.destination = r.str("destination");
      b.destination_type = r.str("destination_type");
      b.routing_key = r.str("routing_key", false);
      b.arguments = r.table("arguments");
      return b;
    });
  }
  if (!s.ok()) return std::move(s).error();
  for (size_t i = 0; i < d.bindings.size(); ++i) {
    const std::string& t = d.bindings[i].destination_type;
    if (t != "queue" && t != "exchange") {
      return def_error("bindings[" + std::to_string(i) + "]: 'destination_type' must be " +
                       "\"queue\" or \"exchange\", not '" + t + "'");
    }
  }
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

Status apply_auth(const Definitions& defs, auth::AuthStore& store) {
  auto wrap = [](std::string where, Status s) -> Status {
    if (s.ok()) return s;
    Error e = std::move(s).error();
    e.text = where + ": " + e.text;
    return e;
  };
  for (size_t i = 0; i < defs.users.size(); ++i) {
    const UserDef& u = defs.users[i];
    Status s = u.password
                   ? store.put_user_hash(u.name, auth::hash_password(*u.password),
                                         auth::kSha256Name, u.tags)
                   : store.put_user_hash(u.name, u.password_hash, u.hashing_algorithm, u.tags);
    if (!s.ok()) return wrap("users[" + std::to_string(i) + "] ('" + u.name + "')", std::move(s));
  }
  for (size_t i = 0; i < defs.permissions.size(); ++i) {
    const PermissionDef& p = defs.permissions[i];
    Status s = store.set_permissions(p.user, p.vhost, p.configure, p.write, p.read);
    if (!s.ok()) {
      return wrap("permissions[" + std::to_string(i) + "] (user '" + p.user + "' in vhost '" +
                      p.vhost + "')",
                  std::move(s));
    }
  }
  for (size_t i = 0; i < defs.topic_permissions.size(); ++i) {
    const TopicPermissionDef& p = defs.topic_permissions[i];
    Status s = store.set_topic_permissions(p.user, p.vhost, p.exchange, p.write, p.read);
    if (!s.ok()) {
      return wrap("topic_permissions[" + std::to_string(i) + "] (user '" + p.user + "' in vhost '" +
                      p.vhost + "', exchange '" + p.exchange + "')",
                  std::move(s));
    }
  }
  return ok_status();
}

}  // namespace pulse::app
