// bench/floor_server.cc — the "floor" for bench/resp_bench.sh: the least a
// RESP server can do to answer redis-benchmark's GETs.
//
// One thread, one level-triggered epoll loop, non-blocking sockets. Every
// request gets the same bulk reply; requests are counted crudely: each '*'
// that starts a line is one multibulk request (redis-benchmark's GETs on
// keys without '*'). Per readable socket: one read(), one write() of as many
// fixed replies as requests ended. No parsing, no lookup, no allocation per
// request. Anything a real server does on top of this shows up as CPU per
// request above the floor's.
//
//   floor_server --port 7000 [--unix /tmp/floor.sock]
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr char kReply[] = "$14\r\n127.0.0.1:9001\r\n";
constexpr std::size_t kReplyLen = sizeof(kReply) - 1;

struct Client {
  bool at_line_start = true;  // the next byte starts a line
  std::string pending;        // replies the kernel did not take yet
};

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

int listen_tcp(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) die("bind");
  if (listen(fd, 511) != 0) die("listen");
  set_nonblocking(fd);
  return fd;
}

int listen_unix(const char* path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
  unlink(path);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) die("bind unix");
  if (listen(fd, 511) != 0) die("listen unix");
  set_nonblocking(fd);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  const char* unix_path = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--unix") == 0) unix_path = argv[i + 1];
  }
  if (port <= 0) {
    std::fprintf(stderr, "usage: floor_server --port PORT [--unix PATH]\n");
    return 2;
  }
  const int ep = epoll_create1(0);
  std::vector<int> listeners{listen_tcp(port)};
  if (unix_path != nullptr) listeners.push_back(listen_unix(unix_path));
  for (int fd : listeners) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }

  std::vector<Client> clients(1024);
  std::string replies;  // kReply repeated, grown on demand
  char in[16 * 1024];
  epoll_event events[256];
  for (;;) {
    const int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listeners[0] || (listeners.size() > 1 && fd == listeners[1])) {
        for (;;) {
          const int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK);
          if (c < 0) break;
          const int one = 1;
          if (fd == listeners[0]) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          if (static_cast<std::size_t>(c) >= clients.size()) clients.resize(static_cast<std::size_t>(c) * 2);
          clients[static_cast<std::size_t>(c)] = Client{};
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      Client& cl = clients[static_cast<std::size_t>(fd)];
      if (events[i].events & EPOLLOUT) {
        const ssize_t w = write(fd, cl.pending.data(), cl.pending.size());
        if (w > 0) cl.pending.erase(0, static_cast<std::size_t>(w));
        if (cl.pending.empty()) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = fd;
          epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
        }
        continue;
      }
      const ssize_t r = read(fd, in, sizeof(in));
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        close(fd);  // also leaves the epoll set
        continue;
      }
      std::size_t requests = 0;
      for (ssize_t k = 0; k < r; ++k) {
        if (cl.at_line_start && in[k] == '*') ++requests;
        cl.at_line_start = in[k] == '\n';
      }
      if (requests == 0) continue;
      while (replies.size() < requests * kReplyLen) replies.append(kReply, kReplyLen);
      const std::size_t len = requests * kReplyLen;
      if (!cl.pending.empty()) {
        cl.pending.append(replies.data(), len);
        continue;
      }
      ssize_t w = write(fd, replies.data(), len);
      if (w < 0) w = 0;
      if (static_cast<std::size_t>(w) < len) {
        cl.pending.assign(replies.data() + w, len - static_cast<std::size_t>(w));
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
      }
    }
  }
}
