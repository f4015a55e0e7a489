// agent/resp_server.h — the RESP listener nginx talks to.
//
// One coroutine per connection: read what the client sent, let a
// resp::Session parse and answer every complete command, write the replies
// in one batch, repeat. Lookups read the current ring snapshot without a lock.
#pragma once

#include <memory>

#include "agent/asio.h"
#include "agent/ring_publisher.h"
#include "resp/session.h"

namespace ringd::agent {

// resp::Backend over the published ring.
class RingBackend final : public resp::Backend {
 public:
  explicit RingBackend(const RingPublisher& publisher) : publisher_(publisher) {}
  std::optional<std::string> owner(std::string_view key) const override;

 private:
  const RingPublisher& publisher_;
};

class RespServer {
 public:
  RespServer(asio::io_context& io, const RingPublisher& publisher);

  // Binds and starts accepting; throws boost::system::system_error.
  void start(const tcp::endpoint& endpoint);
  void stop();
  bool listening() const { return acceptor_.is_open(); }

  const resp::Stats& stats() const { return stats_; }
  std::uint64_t connections_accepted() const { return accepted_; }
  std::uint64_t connections_open() const { return open_; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  RingBackend backend_;
  resp::Stats stats_;
  std::uint64_t accepted_ = 0;
  std::uint64_t open_ = 0;
};

}  // namespace ringd::agent
