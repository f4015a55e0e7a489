// agent/gossip_driver.h — drives the pure gossip::Node with real sockets.
//
// One UDP socket and one TCP listener on --bind, one steady timer. Every
// call into the node is followed by flush(): datagrams go out over UDP
// (best effort, errors counted), stream requests become one TCP
// connection each (4-byte big-endian length + body, one request and one
// reply, bounded in size and time), events go to the callback, and the timer
// is re-armed at node.next_deadline(). Everything runs on one io_context
// thread, so the node needs no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/address_cache.h"
#include "agent/asio.h"
#include "gossip/node.h"

namespace ringd::agent {

class GossipDriver {
 public:
  using EventsHandler = std::function<void(const std::vector<gossip::Event>&)>;

  GossipDriver(asio::io_context& io, gossip::Config config, std::uint64_t seed);

  // Binds UDP and TCP on `bind`; throws boost::system::system_error.
  void bind(const udp::endpoint& bind);
  // Starts receiving and the node with the resolved seeds (joining).
  void start(std::vector<std::string> seeds, EventsHandler on_events);

  // Graceful leave; calls done() once the leave has spread or after timeout.
  void leave(std::chrono::milliseconds timeout, std::function<void()> done);

  const gossip::Node& node() const { return node_; }
  // Our service's state (health check, drain), gossiped at once.
  void set_service_state(gossip::ServiceState state);

  // Transport counters for /metrics (the node has its own).
  std::vector<std::pair<std::string, std::uint64_t>> counters() const;

  static constexpr std::size_t kMaxStreamFrame = 8 * 1024 * 1024;

 private:
  gossip::Time now() const;
  void flush();
  void arm_timer();
  asio::awaitable<void> receive_loop();
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve_stream(tcp::socket socket);
  asio::awaitable<void> send_stream(gossip::StreamRequest request);
  void check_leave();

  asio::io_context& io_;
  gossip::Node node_;
  udp::socket udp_;
  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  EventsHandler on_events_;
  std::function<void()> leave_done_;
  std::unique_ptr<asio::steady_timer> leave_timer_;
  AddressCache addresses_;

  std::uint64_t udp_send_errors_ = 0;
  std::uint64_t stream_errors_ = 0;
  std::uint64_t stream_oversize_ = 0;
  std::uint64_t streams_served_ = 0;
};

}  // namespace ringd::agent
