// /api/vhosts[/{name}[/permissions|/topic-permissions]].
#include <map>

#include "http/api.h"
#include "http/history.h"
#include "http/list.h"
#include "http/stats.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

// RabbitMQ's tags field: a list, or a comma-separated string whose items are trimmed.
std::vector<std::string> vhost_tags(const json& body) {
  std::vector<std::string> tags;
  auto it = body.find("tags");
  if (it == body.end()) return tags;
  if (it->is_array()) {
    for (const auto& t : *it)
      if (t.is_string()) tags.push_back(t);
    return tags;
  }
  if (!it->is_string()) return tags;
  const std::string& s = it->get_ref<const std::string&>();
  if (s.empty()) return tags;
  size_t pos = 0;
  while (true) {
    size_t end = s.find(',', pos);
    std::string t = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    t.erase(0, t.find_first_not_of(' '));
    t.erase(t.find_last_not_of(' ') + 1);
    tags.push_back(std::move(t));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return tags;
}

Response put_vhost(const Call& c, const std::string& name) {
  if (auto r = require_admin(c)) return *r;
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  bool existed = c.broker().find_vhost(name) != nullptr;
  broker::VHost& vh = c.broker().add_vhost(name);
  // A PUT replaces description and tags. RabbitMQ 3.10 ignores default_queue_type here (3.11
  // takes it), so the one an import set stays.
  broker::VHostMetadata m = vh.metadata();
  auto d = body->find("description");
  m.description = d != body->end() && d->is_string() ? d->get<std::string>() : "";
  m.tags = vhost_tags(*body);
  vh.set_metadata(std::move(m));
  if (!existed) {
    // RabbitMQ's management plugin gives the creating user full permissions on a new vhost.
    if (c.auth().set_permissions(c.user.name, name, ".*", ".*", ".*") &&
        c.api.hooks().permission_changed)
      c.api.hooks().permission_changed(c.user.name, name);
  }
  return empty_response(existed ? 204 : 201);
}

Response delete_vhost(const Call& c, const std::string& name) {
  if (auto r = require_admin(c)) return *r;
  if (c.broker().find_vhost(name) == nullptr) return not_found();
  std::vector<auth::PermissionEntry> perms;
  for (const auto& p : c.auth().permissions())
    if (p.vhost == name) perms.push_back(p);
  std::vector<auth::TopicPermissionEntry> topic;
  for (const auto& p : c.auth().topic_permissions())
    if (p.vhost == name) topic.push_back(p);
  c.broker().delete_vhost(name);
  c.auth().clear_vhost(name);
  for (const auto& p : perms)
    if (c.api.hooks().permission_changed) c.api.hooks().permission_changed(p.user, name);
  for (const auto& p : topic)
    if (c.api.hooks().topic_permission_changed)
      c.api.hooks().topic_permission_changed(p.user, name, p.exchange);
  return empty_response(204);
}

// The visible vhosts (or `only`, GET of one) with their queues' message counts, which are
// summed in slices first (100k queues).
Response list_vhosts(const Call& c, const std::string* only) {
  SampleRanges ranges = parse_sample_ranges(c.req);
  if (auto r = range_refusal(ranges, only == nullptr)) return *r;
  VhostWalk::Keep keep = visible_vhosts(c, only);
  std::optional<std::string> one;
  if (only != nullptr) one = *only;
  sum_queues_sliced(c.api.scheduler(), c.broker(), keep,
                    [&api = c.api, keep, one, ranges, req = c.req_ptr,
                     respond = c.respond](std::map<std::string, QueueTotals>& totals) {
                      auto vhost = [&](const std::string& name, const broker::VHost& vh) {
                        auto t = totals.find(name);
                        json j = vhost_json(api, vh, t != totals.end() ? t->second : QueueTotals{});
                        if (ranges.any()) api.stats().add_vhost_samples(j, name, ranges);
                        return j;
                      };
                      if (one) {
                        const broker::VHost* vh = api.broker().find_vhost(*one);
                        respond(vh != nullptr ? json_response(vhost(*one, *vh)) : not_found());
                        return;
                      }
                      json out = json::array();
                      for (const auto& [name, vh] : api.broker().vhosts())
                        if (keep(name)) out.push_back(vhost(name, *vh));
                      respond(reply_list(*req, std::move(out), {{"name"}, "name", true}));
                    });
  return deferred();
}

}  // namespace

Response vhosts_controller(const Call& c) {
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return list_vhosts(c, nullptr);
  }
  const std::string& name = c.seg(1);
  if (c.nseg() == 2) {
    if (m == "GET") {
      if (auto r = require_vhost(c, name, true)) return *r;  // administrators: any vhost
      return list_vhosts(c, &name);
    }
    if (m == "PUT") return put_vhost(c, name);
    if (m == "DELETE") return delete_vhost(c, name);
    return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
  }
  if (c.nseg() == 3 && (c.seg(2) == "permissions" || c.seg(2) == "topic-permissions")) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    if (auto r = require_admin(c)) return *r;
    if (c.broker().find_vhost(name) == nullptr) return not_found();
    json out = json::array();
    if (c.seg(2) == "permissions") {
      for (const auto& p : c.auth().permissions())
        if (p.vhost == name) out.push_back(permission_json(p));
    } else {
      for (const auto& p : c.auth().topic_permissions())
        if (p.vhost == name) out.push_back(topic_permission_json(p));
    }
    return reply_list(c.req, std::move(out), {{"vhost", "user"}});
  }
  return not_found();
}

}  // namespace pulse::http
