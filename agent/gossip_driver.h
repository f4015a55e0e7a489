// agent/gossip_driver.h — drives the pure gossip::Node with real sockets.
//
// One UDP socket and one TCP listener on --bind, one steady timer. Every
// call into the node is followed by flush(), which drains the node through
// gossip::drain (gossip/transport.h, the same loop the simulator uses):
// datagrams go out over UDP (best effort, errors counted), stream requests
// become one TCP connection each (4-byte big-endian length + body, one
// request and one reply, bounded in size and time), notices are logged,
// events go to the callback; then the timer is re-armed at
// node.next_deadline(). Everything runs on one io_context
// thread, so the node needs no lock.
//
// Every datagram and every stream frame body passes GossipSecurity on its
// way out and in (agent/gossip_security.h): sealed, opened, or dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/address_cache.h"
#include "agent/asio.h"
#include "agent/gossip_security.h"
#include "gossip/node.h"

namespace ringd::agent {

class GossipDriver {
 public:
  using EventsHandler = std::function<void(const std::vector<gossip::Event>&)>;

  // With a keyring in `security`, datagrams leave room for the seal
  // (kSealOverhead bytes under config.max_packet_size).
  GossipDriver(asio::io_context& io, gossip::Config config, std::uint64_t seed, SecurityConfig security = {});

  // Binds UDP and TCP on `bind`; throws boost::system::system_error.
  void bind(const udp::endpoint& bind);
  // Starts receiving and the node with the resolved seeds (joining).
  void start(std::vector<std::string> seeds, EventsHandler on_events);

  // Graceful leave; calls done() once the leave has spread or after timeout.
  void leave(std::chrono::milliseconds timeout, std::function<void()> done);

  const gossip::Node& node() const { return node_; }
  // The keyring and its counters (HTTP /keyring); same thread as the driver.
  GossipSecurity& security() { return security_; }
  // Our service's state (health check, drain), gossiped at once.
  void set_service_state(gossip::ServiceState state);
  // Operator requests (HTTP API), each sent at once: a full-state sync with
  // more addresses (IP:PORT; returns how many were asked), a dead member
  // forced out, and our tags replaced (false: over the metadata limit; our
  // "keyring" tag is kept whatever `tags` says).
  std::size_t join(std::vector<std::string> addresses);
  gossip::Node::ForceLeave force_leave(const std::string& name);
  bool set_tags(gossip::Tags tags);

  // Transport counters for /metrics (the node has its own).
  std::vector<std::pair<std::string, std::uint64_t>> counters() const;

  static constexpr std::size_t kMaxStreamFrame = 8 * 1024 * 1024;
  // Inbound stream connections served at once, in all and per peer IP;
  // more are closed at once (counted as stream_rejected). With the 3 s
  // stream deadline this bounds what idle (half-open) or slow senders
  // hold; bodies are read as their bytes arrive, within kMaxInboundBytes
  // over all inbound streams (frames beyond the node's max_stream_size are
  // refused from their header).
  static constexpr std::size_t kMaxInboundStreams = 64;
  static constexpr std::size_t kMaxInboundStreamsPerPeer = 8;
  static constexpr std::size_t kMaxInboundBytes = 32 * 1024 * 1024;

 private:
  class Outlet;  // gossip::Outputs onto the sockets, the log and on_events_
  gossip::Time now() const;
  void flush();
  void arm_timer();
  asio::awaitable<void> receive_loop();
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve_stream(tcp::socket socket, std::string peer_ip);
  asio::awaitable<void> send_stream(gossip::StreamRequest request);
  void check_leave();

  asio::io_context& io_;
  std::size_t max_stream_;  // frame bound: the node's max_stream_size (+ the seal)
  GossipSecurity security_;
  gossip::Node node_;
  udp::socket udp_;
  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  EventsHandler on_events_;
  std::function<void()> leave_done_;
  std::unique_ptr<asio::steady_timer> leave_timer_;
  AddressCache addresses_;
  std::string sealed_;  // scratch: the datagram being sent
  std::string opened_;  // scratch: the datagram just received

  std::uint64_t udp_send_errors_ = 0;
  std::uint64_t inbound_stream_errors_ = 0;  // streams others opened to us that failed
  std::uint64_t stream_oversize_ = 0;
  std::uint64_t streams_served_ = 0;
  std::uint64_t stream_rejected_ = 0;
  // What inbound streams hold now. Shared with each stream's coroutine, so
  // a coroutine destroyed after the driver (at shutdown) touches no freed
  // memory.
  struct Inbound {
    std::size_t streams = 0;
    std::map<std::string, std::size_t> per_peer;
    std::size_t bytes = 0;  // body bytes being read
  };
  std::shared_ptr<Inbound> inbound_ = std::make_shared<Inbound>();
};

}  // namespace ringd::agent
