// gossip/transport.h — the seam between a Node and the network: what comes
// in, what goes out, and the one loop that hands the outputs over.
//
// memberlist puts a Transport interface under its state machine (packets and
// streams in, packets and streams out). A Node owns no sockets, so here the
// seam is turned inside out: "in" is calls the caller makes, "out" is queues
// the caller drains with drain() below. The agent (agent/gossip_driver.cc)
// and the simulator (tests/sim/support/sim_cluster.cc) are the two callers.
//
// In, each call with `now` on the caller's monotonic clock:
//   * handle_packet(now, from, bytes): one UDP datagram, `now` taken when it
//     was received, `from` the sender's "ip:port". Datagrams may be lost,
//     duplicated or reordered; the Node copes with all three.
//   * handle_stream(now, from, request) -> reply: one request over a
//     reliable, ordered stream (TCP); the caller sends the reply back (none
//     when it is empty) and closes.
//   * handle_stream_reply(now, id, reply) or handle_stream_error(now, id):
//     the outcome of a stream request the Node asked for. Exactly one of the
//     two, once per request, however the stream ended.
//   * tick(now), once now >= next_deadline().
//
// Out, queued inside the Node until drain():
//   * datagrams: at most Config::max_packet_size bytes each, best effort;
//   * stream requests: one request, one reply, answered as above;
//   * notices: log lines, already rate-limited;
//   * events: membership changes, in the order they happened.
//
// Sealing (keys, encryption) belongs to the caller, between these bytes and
// the wire: the Node sees plain messages only.
#pragma once

#include <string>
#include <vector>

#include "gossip/node.h"

namespace ringd::gossip {

// Where drain() puts a Node's outputs.
class Outputs {
 public:
  virtual void send_datagram(Datagram d) = 0;
  virtual void send_stream(StreamRequest r) = 0;
  virtual void notice(std::string line) = 0;
  virtual void events(std::vector<Event> events) = 0;  // called only when there are some

 protected:
  ~Outputs() = default;
};

// Hands everything `node` has queued to `out`, network first: datagrams,
// then stream requests, then notices, then events (so an ack leaves before
// anything slow an event sets off). Call it after every call into the Node.
void drain(Node& node, Outputs& out);

}  // namespace ringd::gossip
