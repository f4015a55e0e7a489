// agent/deadline.h — closes a socket when an exchange outlives its time.
//
// Holds a weak reference, so the timer firing after the socket is gone is
// harmless; destroying the Deadline cancels it.
#pragma once

#include <memory>

#include "agent/asio.h"

namespace ringd::agent {

template <typename Socket>
class Deadline {
 public:
  Deadline(const std::shared_ptr<Socket>& socket, std::chrono::steady_clock::duration timeout)
      : timer_(socket->get_executor()) {
    extend(socket, timeout);
  }
  ~Deadline() { timer_.cancel(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Restarts the countdown (e.g. after every request on a keepalive connection).
  void extend(const std::shared_ptr<Socket>& socket, std::chrono::steady_clock::duration timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([weak = std::weak_ptr<Socket>(socket)](boost::system::error_code ec) {
      if (ec) return;
      if (auto s = weak.lock()) {
        boost::system::error_code ignored;
        s->close(ignored);
      }
    });
  }

 private:
  asio::steady_timer timer_;
};

}  // namespace ringd::agent
