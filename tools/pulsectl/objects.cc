// declare / delete / purge of queues, exchanges and bindings; close connection.
#include "commands.h"
#include "exit_codes.h"

namespace pulse::ctl {

namespace {

std::string quoted(const std::string& kind, const std::string& name) {
  return kind + " '" + name + "'";
}

std::string vhost_path(const Ctx& c, const char* collection, const std::string& name) {
  return std::string("/api/") + collection + "/" + seg(c.opt.vhost) + "/" + seg(name);
}

const char* created_or_existed(unsigned status) {
  return status == 201 ? "declared" : "already exists:";
}

// The bindings API answers 404 when either end is missing; say which.
Error binding_not_found(const Ctx& c, const BindingSpec& b, Error original) {
  if (original.code != kExitNotFound) return original;
  const std::string dst_kind = b.destination_type == "exchange" ? "exchange" : "queue";
  for (const auto& [kind, collection, name] :
       {std::tuple<std::string, const char*, std::string>{"exchange", "exchanges", b.source},
        {dst_kind, dst_kind == "exchange" ? "exchanges" : "queues", b.destination}}) {
    auto r = c.api.get(vhost_path(c, collection, name), Subject{quoted(kind, name), c.opt.vhost});
    if (!r) return std::move(r).error();
  }
  return original;
}

std::string binding_base(const Ctx& c, const BindingSpec& b) {
  const char* d = b.destination_type == "exchange" ? "e" : "q";
  // The default exchange is "amq.default" in API paths.
  const std::string source = b.source.empty() ? "amq.default" : b.source;
  return "/api/bindings/" + seg(c.opt.vhost) + "/e/" + seg(source) + "/" + d + "/" +
         seg(b.destination);
}

std::string binding_text(const BindingSpec& b) {
  return "binding from exchange '" + b.source + "' to " + b.destination_type + " '" +
         b.destination + "' with routing key '" + b.routing_key + "'";
}

}  // namespace

Status declare_queue(const Ctx& c, const QueueSpec& q) {
  auto args = parse_args(q.args, "--arg");
  if (!args) return std::move(args).error();
  json body = {{"durable", q.durable}, {"auto_delete", q.auto_delete}, {"arguments", *args}};
  auto r = c.api.put(vhost_path(c, "queues", q.name), body,
                     Subject{quoted("queue", q.name), c.opt.vhost});
  if (!r) return std::move(r).error();
  c.say(std::string(created_or_existed(*r)) + " " + in_vhost(quoted("queue", q.name), c.opt.vhost));
  return ok_status();
}

Status declare_exchange(const Ctx& c, const ExchangeSpec& x) {
  auto args = parse_args(x.args, "--arg");
  if (!args) return std::move(args).error();
  json body = {{"type", x.type},
               {"durable", x.durable},
               {"auto_delete", x.auto_delete},
               {"internal", x.internal},
               {"arguments", *args}};
  auto r = c.api.put(vhost_path(c, "exchanges", x.name), body,
                     Subject{quoted("exchange", x.name), c.opt.vhost});
  if (!r) return std::move(r).error();
  c.say(std::string(created_or_existed(*r)) + " " +
        in_vhost(quoted("exchange", x.name), c.opt.vhost));
  return ok_status();
}

Status declare_binding(const Ctx& c, const BindingSpec& b) {
  auto args = parse_args(b.args, "--arg");
  if (!args) return std::move(args).error();
  json body = {{"routing_key", b.routing_key}, {"arguments", *args}};
  auto r = c.api.post(binding_base(c, b), body, Subject{binding_text(b), c.opt.vhost});
  if (!r) return binding_not_found(c, b, std::move(r).error());
  c.say("declared " + in_vhost(binding_text(b), c.opt.vhost));
  return ok_status();
}

Status delete_binding(const Ctx& c, const BindingSpec& b) {
  auto args = parse_args(b.args, "--arg");
  if (!args) return std::move(args).error();
  // A binding is deleted by its properties key, which only the server can compute (a hash of
  // the arguments on RabbitMQ): find it among the bindings between the two ends.
  const Subject subject{binding_text(b), c.opt.vhost};
  auto list = c.api.get(binding_base(c, b), subject);
  if (!list) return binding_not_found(c, b, std::move(list).error());
  std::string other_arguments;
  for (const auto& binding : *list) {
    if (binding.value("routing_key", "") != b.routing_key) continue;
    const json arguments = binding.value("arguments", json::object());
    if (arguments != *args) {
      other_arguments += (other_arguments.empty() ? "" : ", ") + arguments.dump();
      continue;
    }
    const std::string key = binding.value("properties_key", "");
    auto r = c.api.del(binding_base(c, b) + "/" + seg(key), subject);
    if (!r) return std::move(r).error();
    c.say("deleted " + in_vhost(binding_text(b), c.opt.vhost));
    return ok_status();
  }
  std::string text = in_vhost(binding_text(b), c.opt.vhost) +
                     (args->empty() ? "" : " and arguments " + args->dump()) + " not found";
  if (!other_arguments.empty()) {
    text += " (with that routing key: arguments " + other_arguments + "; give them with --arg)";
  }
  return Error{kExitNotFound, text};
}

Status delete_queue(const Ctx& c, const std::string& name, bool if_empty, bool if_unused) {
  std::string query;
  if (if_empty) query += "if-empty=true";
  if (if_unused) query += std::string(query.empty() ? "" : "&") + "if-unused=true";
  auto r = c.api.del(vhost_path(c, "queues", name) + (query.empty() ? "" : "?" + query),
                     Subject{quoted("queue", name), c.opt.vhost});
  if (!r) return std::move(r).error();
  c.say("deleted " + in_vhost(quoted("queue", name), c.opt.vhost));
  return ok_status();
}

Status delete_exchange(const Ctx& c, const std::string& name, bool if_unused) {
  auto r = c.api.del(vhost_path(c, "exchanges", name) + (if_unused ? "?if-unused=true" : ""),
                     Subject{quoted("exchange", name), c.opt.vhost});
  if (!r) return std::move(r).error();
  c.say("deleted " + in_vhost(quoted("exchange", name), c.opt.vhost));
  return ok_status();
}

Status purge_queue(const Ctx& c, const std::string& name) {
  auto r = c.api.del(vhost_path(c, "queues", name) + "/contents",
                     Subject{quoted("queue", name), c.opt.vhost});
  if (!r) return std::move(r).error();
  c.say("purged " + in_vhost(quoted("queue", name), c.opt.vhost));
  return ok_status();
}

Status close_connection(const Ctx& c, const std::string& name, const std::string& reason) {
  Headers headers;
  if (!reason.empty()) headers.emplace_back("X-Reason", reason);
  auto r =
      c.api.del("/api/connections/" + seg(name), Subject{quoted("connection", name), {}}, headers);
  if (!r) return std::move(r).error();
  c.say("closed " + quoted("connection", name));
  return ok_status();
}

}  // namespace pulse::ctl
