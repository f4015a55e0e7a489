// agent/resp_shared.h — what the RESP server's loops and connections all
// read (internal to resp_server.cc and ring_backend.cc).
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "agent/resp_server.h"

namespace ringd::agent {

// Seconds on CLOCK_MONOTONIC_COARSE: a vDSO read. The loops read it once per
// wake-up (Loop::now_s_); connections at connect and for the ages and
// uptime CLIENT and INFO report.
inline std::int64_t coarse_now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec);
}

// Everything connections read. Owned by the server and shared with its
// epoll loops; a connection belongs to one loop and reads this by
// reference, and RespServer::stop() ends the loops (closing their
// connections) before the server lets go of it.
struct RespServer::Shared {
  Shared(const RingPublisher& p, RespServerOptions o) : publisher(p), options(std::move(o)) {
    session_options.limits = options.limits;
    if (options.password) session_options.password = &*options.password;
  }
  const RingPublisher& publisher;
  RespServerOptions options;
  resp::SessionOptions session_options;
  resp::Stats stats;
  std::atomic<std::shared_ptr<const std::vector<gossip::Member>>> members{
      std::make_shared<const std::vector<gossip::Member>>()};
  std::int64_t started_s = coarse_now_s();
  std::uint16_t tcp_port = 0;
};


}  // namespace ringd::agent
