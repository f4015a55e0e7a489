// agent/resp_server.h — the RESP listener nginx talks to.
//
// Threads. With threads == 1 every connection runs on the agent's own
// io_context (the gossip thread). With threads == N > 1 the server runs N
// io_contexts, one thread each; the acceptors stay on the agent's
// io_context and hand each new socket to the next worker, round robin.
// Connections never move between threads, and nothing a lookup touches takes
// a lock: each batch pins the ring snapshot with one atomic shared_ptr load
// (RingPublisher), counters are relaxed atomics, and the member list INFO
// shows is published the same way by publish_members().
//
// One connection, one coroutine on its worker: wait until the socket is
// readable, read what is there (non-blocking), let a resp::Session answer
// every complete command, write the replies of the batch with one send().
// That is one epoll_wait, one read and one write per request when a client
// sends one request at a time; a pipelined batch costs the same. Only when
// the kernel will not take all the replies does a second coroutine start to
// flush them while the first keeps reading: a client whose unsent replies
// grow past max_output_buffer is dropped (it is not reading).
//
// Limits: max_clients (extra connections get Redis's "-ERR max number of
// clients reached" and are closed), an idle timeout (a sweep each second on
// every worker closes clients idle longer than timeout_s, as Redis's
// `timeout`), the resp::Limits on input, and the output cap above.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/asio.h"
#include "agent/ring_publisher.h"
#include "gossip/node.h"
#include "resp/session.h"

namespace ringd::agent {

struct RespServerOptions {
  std::string unix_path;                       // also listen on this Unix socket ("" = no)
  std::size_t max_clients = 10000;             // open RESP connections, TCP + Unix
  int timeout_s = 0;                           // close clients idle this long; 0 = never
  std::size_t max_output_buffer = 32u << 20;   // unsent reply bytes before a client is dropped
  int threads = 1;                             // I/O threads (1 = the agent's io_context)
  std::optional<std::string> password;         // requirepass (AUTH); nullopt = none
  resp::Limits limits;
};

class RespServer {
 public:
  RespServer(asio::io_context& io, const RingPublisher& publisher, RespServerOptions options = {});
  ~RespServer();
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // Binds the TCP endpoint (and the Unix socket when configured), starts the
  // worker threads and starts accepting; throws boost::system::system_error.
  void start(const tcp::endpoint& endpoint);
  // Stops accepting and closes every connection; joins the worker threads.
  void stop();
  bool listening() const { return acceptor_.is_open(); }

  // The member list INFO's members section shows (call from the gossip
  // thread after membership events).
  void publish_members(std::vector<gossip::Member> members);

  const resp::Stats& stats() const;
  std::uint64_t connections_accepted() const;
  std::uint64_t connections_open() const;

  struct Shared;    // state every connection reads (resp_server.cc)
  struct Worker;    // one io_context and its connections

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> accept_unix_loop();
  Worker& next_worker();
  template <typename Socket>
  void start_connection(Worker& w, Socket socket);

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  asio::local::stream_protocol::acceptor unix_acceptor_;
  std::shared_ptr<Shared> shared_;  // also held by every connection
  std::vector<std::unique_ptr<Worker>> workers_;
  std::size_t next_ = 0;
  bool stopped_ = false;
};

}  // namespace ringd::agent
