// agent/resp_server.h — the RESP listener nginx talks to.
//
// Threads. The server runs `threads` I/O threads of its own (default 1),
// apart from the agent's io_context (gossip, HTTP), so a burst of lookups
// never delays a probe and the other way round. Each thread runs one
// epoll loop; the listening sockets are in every loop's epoll set
// (EPOLLEXCLUSIVE: one thread wakes per connection) and a connection stays
// on the thread that accepted it. Nothing a lookup touches takes a lock:
// each loop keeps the published ring set (RingPublisher::rings()) and
// reloads it only when the publisher's generation moved, so a batch costs
// one atomic load; counters are relaxed atomics added once per batch, and
// the member list INFO shows is published by publish_members().
//
// Databases: a connection reads the ring of every endpoint (db 0) until it
// SELECTs a service (db 1..k, services sorted by name, see RingPublisher);
// it keeps that service by name if the numbering later changes.
//
// Why epoll and not Asio here: a lookup costs a few hundred nanoseconds, so
// the server's cost is its system calls. Per readable socket the loop does
// one read() and one write() (all the replies of the batch), the same as
// the floor server in bench/; Asio's reactor adds an epoll_ctl or a
// speculative read per operation and a completion hop. The writes of one
// wake-up go out after all its reads, as Redis's do, so a client with many
// connections collects its replies in fewer wake-ups. The listeners are
// still bound with Asio (errors as boost::system::system_error).
//
// Busy polling: after a wake-up that served clients waiting for each reply,
// a loop polls for up to busy_poll_us (and at most 3/4 of the time a
// request takes to serve) before it sleeps, while that keeps finding work
// (busy_poll.h says when, why and how long).
//
// Limits: max_clients (extra connections get Redis's "-ERR max number of
// clients reached" and are closed), an idle timeout (each thread sweeps once
// a second, as Redis's `timeout`), the resp::Limits on input, and an output
// cap: a client keeps being read while its replies wait for it, and is
// dropped once more than max_output_buffer bytes are unsent (it is not
// reading), as Redis's client-output-buffer-limit does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/asio.h"
#include "agent/prometheus.h"
#include "agent/ring_publisher.h"
#include "gossip/node.h"
#include "resp/session.h"

namespace ringd::agent {

struct RespServerOptions {
  std::string unix_path;                       // also listen on this Unix socket ("" = no)
  std::size_t max_clients = 10000;             // open RESP connections, TCP + Unix
  int timeout_s = 0;                           // close clients idle this long; 0 = never
  std::size_t max_output_buffer = 32u << 20;   // unsent reply bytes before a client is dropped
  int threads = 1;                             // I/O threads
  int busy_poll_us = 5;                        // poll this long before sleeping (busy_poll.h); 0 = never
  std::optional<std::string> password;         // requirepass (AUTH); nullopt = none
  resp::Limits limits;
};

class RespServer {
 public:
  RespServer(asio::io_context& io, const RingPublisher& publisher, RespServerOptions options = {});
  ~RespServer();
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // Binds the TCP endpoint; throws boost::system::system_error. Nothing
  // listens yet: connections are refused until start(), while the address
  // is already known to be ours (the agent binds every listener before it
  // joins, so a port in use fails before the cluster ever hears of it).
  void bind(const tcp::endpoint& endpoint);
  // Binds the Unix socket when one is configured (replacing a stale socket
  // file); throws boost::system::system_error.
  void bind_unix();
  // Listens on what bind() and bind_unix() bound and starts the I/O
  // threads; throws boost::system::system_error.
  void start();
  // Stops the threads and closes every connection. Also run by the destructor.
  void stop();
  bool listening() const { return !loops_.empty(); }

  // The member list INFO's members section shows (call from the gossip
  // thread after membership events).
  void publish_members(std::vector<gossip::Member> members);

  const resp::Stats& stats() const;
  // Per command that ran: calls (all threads) and the latency histogram of
  // reads that held that command alone; "pipeline" for reads of several.
  struct CommandMetrics {
    std::string_view name;
    std::uint64_t calls = 0;
    LatencyHistogram::Snapshot latency;
  };
  std::vector<CommandMetrics> command_metrics() const;
  std::uint64_t connections_accepted() const;
  std::uint64_t connections_open() const;

  struct Shared;  // what every connection reads (resp_server.cc)
  class Loop;     // one I/O thread

 private:
  tcp::acceptor acceptor_;
  asio::local::stream_protocol::acceptor unix_acceptor_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace ringd::agent
