// tests/unit/gossip_transport_test.cc — gossip::drain hands every output
// over once, network first, in the order gossip/transport.h promises.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gossip/codec.h"
#include "gossip/transport.h"

namespace ringd::gossip {
namespace {

const Time kT0 = std::chrono::seconds(1000);

struct Recorder final : Outputs {
  std::string order;  // one letter per call: d, s, n, e
  std::size_t events_seen = 0;
  void send_datagram(Datagram d) override {
    EXPECT_FALSE(d.bytes.empty());
    order += 'd';
  }
  void send_stream(StreamRequest r) override {
    EXPECT_FALSE(r.bytes.empty());
    order += 's';
  }
  void notice(std::string line) override {
    EXPECT_FALSE(line.empty());
    order += 'n';
  }
  void events(std::vector<Event> events) override {
    EXPECT_FALSE(events.empty());
    events_seen += events.size();
    order += 'e';
  }
};

std::string alive_packet(int first, int count) {
  msg::Packet p;
  for (int i = first; i < first + count; ++i) {
    std::string name = "m";
    name += std::to_string(i);
    std::string addr = "10.0.1.";
    addr += std::to_string(i);
    addr += ":7946";
    p.messages.push_back(msg::Alive{name, addr, "", 1});
  }
  return codec::encode(p);
}

TEST(GossipTransport, DrainHandsOverEverythingNetworkFirst) {
  Config c;
  c.name = "n0";
  c.advertise = "10.0.0.1:7946";
  Node n(c, 1);
  n.start(kT0, {"10.0.0.9:7946", "10.0.0.8:7946"});  // join: stream requests
  const auto requests = n.take_stream_requests();
  ASSERT_FALSE(requests.empty());
  n.handle_stream_error(kT0, requests.front().id, "Connection refused");
  n.handle_stream_error(kT0, requests.back().id, "Connection refused");  // join failed: a notice
  n.handle_packet(kT0, "10.0.1.1:7946", alive_packet(1, 3));  // three joined: events
  n.tick(kT0 + std::chrono::seconds(2));  // probes and gossip: datagrams; a join retry: streams

  Recorder out;
  drain(n, out);
  // Every kind came, each kind in one run, in the promised order.
  const std::string kinds = "dsne";
  std::string runs;
  for (char k : out.order) {
    if (runs.empty() || runs.back() != k) runs += k;
  }
  EXPECT_EQ(runs, kinds) << out.order;
  EXPECT_EQ(out.events_seen, 4u);  // ourselves and the three
  EXPECT_EQ(out.order.find('e'), out.order.size() - 1) << "events come in one call, last";

  // Nothing is handed over twice.
  Recorder again;
  drain(n, again);
  EXPECT_EQ(again.order, "");
}

}  // namespace
}  // namespace ringd::gossip
