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

// Seconds on CLOCK_MONOTONIC_COARSE: a vDSO read, cheap enough per request.
inline std::int64_t coarse_now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec);
}

// Everything connections read, owned jointly by the server and every live
// connection (a connection can outlive the server while its io_context is
// being destroyed).
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
