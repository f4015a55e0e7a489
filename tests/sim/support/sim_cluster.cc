// tests/sim/support/sim_cluster.cc — see sim_cluster.h.
#include "support/sim_cluster.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace ringd::sim {
namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

gossip::MemberState state_after(gossip::Event::Kind k) {
  switch (k) {
    case gossip::Event::Kind::kJoined:
    case gossip::Event::Kind::kUpdated:
    case gossip::Event::Kind::kAlive: return gossip::MemberState::kAlive;
    case gossip::Event::Kind::kSuspect: return gossip::MemberState::kSuspect;
    case gossip::Event::Kind::kDead: return gossip::MemberState::kDead;
    case gossip::Event::Kind::kLeft: return gossip::MemberState::kLeft;
  }
  return gossip::MemberState::kAlive;
}

}  // namespace

std::uint64_t sim_seed(std::uint64_t fallback) {
  if (const char* env = std::getenv("RINGD_SIM_SEED"); env != nullptr && *env != '\0') {
    return std::strtoull(env, nullptr, 10);
  }
  return fallback;
}

void EventLoop::schedule(Time at, std::function<void()> fn) {
  queue_.push(Item{std::max(at, now_), seq_++, std::move(fn)});
}

void EventLoop::run_one() {
  Item item = queue_.top();
  queue_.pop();
  now_ = item.at;
  item.fn();
}

Cluster::Cluster(std::uint64_t seed, SimOptions options)
    : seed_(seed), options_(std::move(options)), rng_(mix(seed)) {
  loop_.set_now(std::chrono::seconds(1000));  // any epoch; not zero to catch "0 = unset" bugs
}

Cluster::~Cluster() {
  if (::testing::Test::HasFailure()) {
    std::cerr << "[sim] failing run used seed " << seed_ << " (replay: RINGD_SIM_SEED=" << seed_
              << ")\n";
  }
}

gossip::Config Cluster::config_for(std::size_t i,
                                   const std::function<void(gossip::Config&)>& tweak) const {
  gossip::Config c = options_.base;
  c.name = nodes_[i].name;
  c.advertise = nodes_[i].addr;
  if (tweak) tweak(c);
  return c;
}

void Cluster::make_node(std::size_t i, const std::function<void(gossip::Config&)>& tweak) {
  SimNode& n = nodes_[i];
  n.generation++;
  n.node = std::make_unique<gossip::Node>(config_for(i, tweak),
                                          mix(seed_ ^ mix(i * 1000003 + n.generation)));
  n.view.clear();
}

std::size_t Cluster::add_node(std::function<void(gossip::Config&)> tweak) {
  const std::size_t i = nodes_.size();
  SimNode n;
  std::ostringstream name;
  name << 'n' << i;
  std::ostringstream addr;  // (string operator+ chains trip GCC 12's -Wrestrict)
  addr << "10.0." << i / 256 << '.' << i % 256 << ":7946";
  n.name = name.str();
  n.addr = addr.str();
  by_addr_[n.addr] = i;
  nodes_.push_back(std::move(n));
  make_node(i, tweak);
  return i;
}

void Cluster::start(std::size_t i, std::vector<std::string> seeds) {
  nodes_[i].running = true;
  nodes_[i].node->start(loop_.now(), std::move(seeds));
  drain(i);
}

void Cluster::add_and_start(std::size_t n) {
  const std::size_t first = nodes_.size();
  for (std::size_t k = 0; k < n; ++k) add_node();
  for (std::size_t k = first; k < first + n; ++k) {
    start(k, k == 0 ? std::vector<std::string>{} : std::vector<std::string>{addr(0)});
  }
}

void Cluster::crash(std::size_t i) { nodes_[i].running = false; }

void Cluster::restart(std::size_t i, std::vector<std::string> seeds,
                      std::function<void(gossip::Config&)> tweak) {
  nodes_[i].running = false;
  make_node(i, tweak);
  start(i, std::move(seeds));
}

void Cluster::leave(std::size_t i) {
  nodes_[i].node->leave(loop_.now());
  drain(i);
}

void Cluster::block(std::size_t from, std::size_t to) { blocked_.insert({addr(from), addr(to)}); }
void Cluster::unblock(std::size_t from, std::size_t to) { blocked_.erase({addr(from), addr(to)}); }

void Cluster::isolate(std::size_t i) {
  for (std::size_t j = 0; j < nodes_.size(); ++j) {
    if (j == i) continue;
    block(i, j);
    block(j, i);
  }
}

void Cluster::heal(std::size_t i) {
  for (std::size_t j = 0; j < nodes_.size(); ++j) {
    unblock(i, j);
    unblock(j, i);
  }
}

void Cluster::set_link_drop_rate(std::size_t from, std::size_t to, double p) {
  link_drop_[{addr(from), addr(to)}] = p;
}

std::optional<std::size_t> Cluster::index_of(const std::string& a) const {
  auto it = by_addr_.find(a);
  if (it == by_addr_.end()) return std::nullopt;
  return it->second;
}

bool Cluster::link_up(const std::string& from_addr, const std::string& to_addr) const {
  return blocked_.count({from_addr, to_addr}) == 0;
}

Duration Cluster::latency() {
  std::uniform_int_distribution<Duration::rep> d(options_.min_latency.count(),
                                                 options_.max_latency.count());
  return Duration(d(rng_));
}

void Cluster::inject(const std::string& from_addr, std::size_t to, const std::string& bytes) {
  if (!running(to)) return;
  nodes_[to].node->handle_packet(loop_.now(), from_addr, bytes);
  drain(to);
}

void Cluster::drain(std::size_t i) {
  SimNode& n = nodes_[i];
  for (auto& e : n.node->take_events()) {
    const gossip::Member& m = e.member;
    std::ostringstream line;
    line << (loop_.now().count() / 1000000) << "ms " << n.name << " sees " << m.name << ' '
         << gossip::to_string(e.kind) << " inc=" << m.incarnation << " addr=" << m.address
         << " svc=" << m.service;
    trace_.push_back(line.str());
    const gossip::MemberState s = state_after(e.kind);
    auto it = n.view.find(m.name);
    const bool known = it != n.view.end();
    bool ok = true;
    if (e.kind == gossip::Event::Kind::kJoined) {
      ok = !known || it->second.state != gossip::MemberState::kAlive;
    } else if (e.kind == gossip::Event::Kind::kUpdated) {
      ok = known && it->second.state == gossip::MemberState::kAlive &&
           (it->second.address != m.address || it->second.service != m.service);
    } else {
      ok = !known || it->second.state != s;
    }
    if (ok && e.member.state != s) ok = false;
    if (!ok) violations_.push_back(line.str());
    n.view[m.name] = m;
  }
  const std::uint64_t gen = n.generation;
  for (auto& d : n.node->take_datagrams()) deliver_datagram(i, std::move(d));
  for (auto& r : n.node->take_stream_requests()) deliver_stream(i, gen, std::move(r));
}

void Cluster::deliver_datagram(std::size_t from, gossip::Datagram d) {
  ++datagrams_sent_;
  const std::string& from_addr = nodes_[from].addr;
  if (!link_up(from_addr, d.to)) return;
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const double link_p = [&] {
    auto it = link_drop_.find({from_addr, d.to});
    return it == link_drop_.end() ? 0.0 : it->second;
  }();
  if (drop_rate_ > 0.0 && coin(rng_) < drop_rate_) return;
  if (link_p > 0.0 && coin(rng_) < link_p) return;
  if (filter_ && filter_(from_addr, d.to, d.bytes)) return;
  const auto to = index_of(d.to);
  if (!to) return;
  loop_.schedule(loop_.now() + latency(), [this, to = *to, from_addr, bytes = std::move(d.bytes)] {
    if (!nodes_[to].running) return;
    nodes_[to].node->handle_packet(loop_.now(), from_addr, bytes);
    drain(to);
  });
}

void Cluster::deliver_stream(std::size_t from, std::uint64_t generation, gossip::StreamRequest r) {
  const std::string from_addr = nodes_[from].addr;
  auto fail = [this, from, generation, id = r.id] {
    loop_.schedule(loop_.now() + options_.stream_timeout, [this, from, generation, id] {
      if (!nodes_[from].running || nodes_[from].generation != generation) return;
      nodes_[from].node->handle_stream_error(loop_.now(), id);
      drain(from);
    });
  };
  const auto to = index_of(r.to);
  if (!to || !link_up(from_addr, r.to) || !link_up(r.to, from_addr)) {
    fail();
    return;
  }
  loop_.schedule(loop_.now() + latency(), [this, from, generation, to = *to, from_addr, fail,
                                           r = std::move(r)] {
    if (!nodes_[to].running || !link_up(from_addr, r.to) || !link_up(r.to, from_addr)) {
      fail();
      return;
    }
    std::string reply = nodes_[to].node->handle_stream(loop_.now(), from_addr, r.bytes);
    drain(to);
    if (reply.empty()) {
      fail();
      return;
    }
    loop_.schedule(loop_.now() + latency(), [this, from, generation, id = r.id,
                                             reply = std::move(reply)] {
      if (!nodes_[from].running || nodes_[from].generation != generation) return;
      nodes_[from].node->handle_stream_reply(loop_.now(), id, reply);
      drain(from);
    });
  });
}

bool Cluster::step(Time limit) {
  Time t_node = Time::max();
  std::size_t who = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].running) continue;
    const Time t = nodes_[i].node->next_deadline();
    if (t < t_node) {
      t_node = t;
      who = i;
    }
  }
  const Time t_ev = loop_.next_time();
  const Time t = std::min(t_node, t_ev);
  if (t == Time::max() || t > limit) return false;
  if (t_ev <= t_node) {
    loop_.run_one();
  } else {
    loop_.set_now(std::max(loop_.now(), t_node));
    nodes_[who].node->tick(loop_.now());
    drain(who);
  }
  return true;
}

bool Cluster::run_until(const std::function<bool()>& pred, Duration max) {
  const Time limit = loop_.now() + max;
  Time last = loop_.now();
  std::uint64_t same_time_steps = 0;
  while (!pred()) {
    if (!step(limit)) {
      loop_.set_now(limit);
      return pred();
    }
    if (loop_.now() == last) {
      if (++same_time_steps > 1000000) {
        ADD_FAILURE() << "simulation stuck at t=" << loop_.now().count() << "ns";
        return false;
      }
    } else {
      last = loop_.now();
      same_time_steps = 0;
    }
  }
  return true;
}

void Cluster::run_for(Duration d) { run_until([] { return false; }, d); }

std::optional<gossip::Member> Cluster::view(std::size_t o, std::size_t m) const {
  for (const auto& mem : nodes_[o].node->members()) {
    if (mem.name == nodes_[m].name) return mem;
  }
  return std::nullopt;
}

bool Cluster::sees(std::size_t o, std::size_t m, gossip::MemberState s) const {
  const auto v = view(o, m);
  return v && v->state == s;
}

bool Cluster::converged() const {
  for (std::size_t o = 0; o < nodes_.size(); ++o) {
    if (!nodes_[o].running) continue;
    if (!nodes_[o].node->joined()) return false;
    for (std::size_t m = 0; m < nodes_.size(); ++m) {
      if (m == o || !nodes_[m].running) continue;
      if (!sees(o, m, gossip::MemberState::kAlive)) return false;
    }
  }
  return true;
}

bool Cluster::all_see(std::size_t m, gossip::MemberState s) const {
  for (std::size_t o = 0; o < nodes_.size(); ++o) {
    if (o == m || !nodes_[o].running) continue;
    if (!sees(o, m, s)) return false;
  }
  return true;
}

bool Cluster::events_match_members(std::string* why) const {
  for (const auto& n : nodes_) {
    if (!n.running) continue;
    for (const auto& m : n.node->members()) {
      auto it = n.view.find(m.name);
      std::ostringstream msg;
      if (it == n.view.end()) {
        msg << n.name << " knows " << m.name << " without an event";
      } else if (it->second.state != m.state || it->second.address != m.address ||
                 it->second.service != m.service) {
        msg << n.name << " has " << m.name << " " << gossip::to_string(m.state)
            << " but its events say " << gossip::to_string(it->second.state);
      } else {
        continue;
      }
      if (why != nullptr) *why = msg.str();
      return false;
    }
  }
  return true;
}

std::uint64_t Cluster::counter(std::size_t i, const std::string& name) const {
  for (const auto& [k, v] : nodes_[i].node->counters()) {
    if (k == name) return v;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

}  // namespace ringd::sim
