#include "server/connection_limits.h"

#include "broker/limits.h"
#include "broker/vhost.h"
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "server/server.h"

namespace pulse::server {
namespace {

// Open (past connection.open-ok) and not closing.
bool counts(AmqpConnection& c) {
  return c.vhost() != nullptr && !c.closing();
}

}  // namespace

Status check_connection_limits(Server& server, const broker::VHost& vhost,
                               const std::string& user) {
  auto on_vhost = [&] {
    size_t n = 0;
    for (const auto& [id, c] : server.connections())
      if (counts(*c) && c->vhost_name() == vhost.name()) ++n;
    server.for_each_other_connection([&](const Server::OtherConnection& o) {
      if (o.vhost == vhost.name()) ++n;
    });
    return n;
  };
  if (auto s = broker::check_vhost_connection_limit(vhost, user, on_vhost); !s) return s;
  const auth::User* u = server.auth().find_user(user);
  if (u == nullptr) return ok_status();
  auto of_user = [&] {
    size_t n = 0;
    for (const auto& [id, c] : server.connections())
      if (counts(*c) && c->user() == user) ++n;
    server.for_each_other_connection([&](const Server::OtherConnection& o) {
      if (o.user == user) ++n;
    });
    return n;
  };
  return broker::check_user_connection_limit(*u, of_user);
}

Status check_channel_limit(Server& server, const std::string& user) {
  const auth::User* u = server.auth().find_user(user);
  if (u == nullptr) return ok_status();
  auto channels = [&] {
    size_t n = 0;
    for (const auto& [id, c] : server.connections()) {
      if (!counts(*c) || c->user() != user) continue;
      for (const auto& [number, ch] : c->channels())
        if (!ch->finished()) ++n;
    }
    server.for_each_other_connection([&](const Server::OtherConnection& o) {
      if (o.user == user) n += o.channels;
    });
    return n;
  };
  return broker::check_user_channel_limit(*u, channels);
}

}  // namespace pulse::server
