#pragma once
// Loopback sockets for tests that start brokers or stand-in peers: distinct free ports,
// listening sockets on an ephemeral port, connections.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace pulse::client::testing {

// A socket bound to 127.0.0.1 on an ephemeral port (written to *port), listening when
// `backlog` > 0. The caller closes it.
inline int bind_loopback(uint16_t* port, int backlog = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (backlog > 0) ::listen(fd, backlog);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// A blocking connection to 127.0.0.1:port, or -1.
inline int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Distinct free ports: each socket stays bound until all are picked, so the kernel cannot hand
// out the same port twice.
inline std::vector<uint16_t> free_ports(size_t n) {
  std::vector<int> fds;
  std::vector<uint16_t> ports(n);
  for (size_t i = 0; i < n; ++i) fds.push_back(bind_loopback(&ports[i]));
  for (int fd : fds) ::close(fd);
  return ports;
}

}  // namespace pulse::client::testing
