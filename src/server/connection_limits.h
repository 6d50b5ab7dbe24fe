#pragma once
// Vhost and user limits at the AMQP handshake and at channel.open (broker/limits.h has the
// values, the validation and RabbitMQ's refusal texts). Counting walks the server's
// connections, and only when a limit is in force, so connections without limits pay nothing
// and no count can drift from the truth. Event-loop thread.
#include <string>

#include "base/result.h"

namespace pulse::broker {
class VHost;
}

namespace pulse::server {

class Server;

// connection.open, in rabbit_reader's order: once the vhost is known to exist and before the
// user's access to it is checked, the vhost's max-connections, then the user's. Connections
// that are closing do not count.
Status check_connection_limits(Server& server, const broker::VHost& vhost, const std::string& user);
// A new channel of `user`: the user's max-channels across all its open connections.
Status check_channel_limit(Server& server, const std::string& user);

}  // namespace pulse::server
