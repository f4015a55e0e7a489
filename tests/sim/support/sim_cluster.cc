// tests/sim/support/sim_cluster.cc — see sim_cluster.h.
#include "support/sim_cluster.h"

#include "gossip/transport.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace ringd::sim {
namespace {

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

std::string Cluster::address_of(std::size_t i, std::uint64_t moves) {
  std::ostringstream addr;  // (string operator+ chains trip GCC 12's -Wrestrict)
  addr << "10." << moves << '.' << i / 256 << '.' << i % 256 << ":7946";
  return addr.str();
}

std::uint64_t mix_seed(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t sim_seed(std::uint64_t fallback) {
  if (const char* env = std::getenv("RINGD_SIM_SEED"); env != nullptr && *env != '\0') {
    return std::strtoull(env, nullptr, 10);
  }
  return fallback;
}

Cluster::Cluster(std::uint64_t seed, SimOptions options)
    : seed_(seed),
      options_(std::move(options)),
      rng_(mix_seed(seed)),
      net_(rng_, options_.link),
      checker_(options_.checks) {
  loop_.set_now(std::chrono::seconds(1000));  // any epoch; not zero to catch "0 = unset" bugs
}

Cluster::~Cluster() {
  if (failure_reported()) {
    std::cerr << "[sim] failing run used seed " << seed_ << " (replay: RINGD_SIM_SEED=" << seed_
              << ")\n";
  }
}

std::optional<std::size_t> Cluster::index_of(const std::string& a) const {
  auto it = by_addr_.find(a);
  if (it == by_addr_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::size_t> Cluster::index_of_name(std::string_view n) const {
  auto it = by_name_.find(n);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

gossip::Config Cluster::config_for(std::size_t i,
                                   const std::function<void(gossip::Config&)>& tweak) const {
  gossip::Config c = options_.base;
  c.name = nodes_[i].name;
  c.advertise = nodes_[i].addr;
  c.identity_pool = identities_;  // one thread drives them all
  if (tweak) tweak(c);
  return c;
}

void Cluster::make_node(std::size_t i, const std::function<void(gossip::Config&)>& tweak) {
  SimNode& n = nodes_[i];
  n.generation++;
  n.node = std::make_unique<gossip::Node>(config_for(i, tweak),
                                          mix_seed(seed_ ^ mix_seed(i * 1000003 + n.generation)));
  n.view.clear();
}

std::size_t Cluster::add_node(std::function<void(gossip::Config&)> tweak) {
  const std::size_t i = nodes_.size();
  SimNode n;
  std::ostringstream name;
  name << 'n' << i;
  n.name = name.str();
  n.addr = address_of(i, 0);
  by_addr_[n.addr] = i;
  by_name_[n.name] = i;
  nodes_.push_back(std::move(n));
  net_.resize(nodes_.size());
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

void Cluster::start_settled(std::size_t first) {
  std::vector<gossip::Member> all;
  all.reserve(nodes_.size() - first);
  for (std::size_t k = first; k < nodes_.size(); ++k) {
    gossip::Member m = nodes_[k].node->self();  // name, address, service, tags
    m.state = gossip::MemberState::kAlive;
    all.push_back(std::move(m));
  }
  for (std::size_t k = first; k < nodes_.size(); ++k) {
    nodes_[k].running = true;
    nodes_[k].node->start_with_view(loop_.now(), all);
    if (options_.track_views) {
      for (const gossip::Member& m : all) {
        if (m.name != nodes_[k].name) nodes_[k].view[m.name] = m;
      }
    }
    drain(k);
  }
}

// --- the engine ---

void Cluster::digest_bytes(std::string_view bytes) {
  for (unsigned char ch : bytes) digest_ = (digest_ ^ ch) * 0x100000001b3ULL;
  digest_ = (digest_ ^ 0xff) * 0x100000001b3ULL;
}

void Cluster::digest_u64(std::uint64_t v) {
  for (int k = 0; k < 8; ++k) digest_ = (digest_ ^ ((v >> (8 * k)) & 0xff)) * 0x100000001b3ULL;
}

void Cluster::record_event(std::size_t i, const gossip::Event& e) {
  SimNode& n = nodes_[i];
  const gossip::Member& m = e.member;
  std::ostringstream line;
  line << (loop_.now().count() / 1000000) << "ms " << n.name << " sees " << m.name << ' '
       << gossip::to_string(e.kind) << " inc=" << m.incarnation << " addr=" << m.address
       << " svc=" << m.service;
  if (m.service_state != gossip::ServiceState::kPassing) line << " health=" << gossip::to_string(m.service_state);
  std::string text = line.str();
  digest_u64(static_cast<std::uint64_t>(loop_.now().count()));
  digest_bytes(text);
  if (options_.track_views) {
    const gossip::MemberState s = state_after(e.kind);
    auto it = n.view.find(m.name);
    const bool known = it != n.view.end();
    bool ok = true;
    if (e.kind == gossip::Event::Kind::kJoined) {
      ok = !known || it->second.state != gossip::MemberState::kAlive;
    } else if (e.kind == gossip::Event::Kind::kUpdated) {
      ok = known && it->second.state == gossip::MemberState::kAlive &&
           (it->second.address != m.address || it->second.service != m.service || it->second.tags != m.tags ||
            it->second.service_state != m.service_state);
    } else {
      ok = !known || it->second.state != s;
    }
    if (ok && e.member.state != s) ok = false;
    if (!ok) violations_.push_back(text);
    n.view[m.name] = m;
  }
  if (options_.record_trace) trace_.push_back(std::move(text));
}

// Member i's outputs, handed over by gossip::drain in the agent's order.
class Cluster::Outlet final : public gossip::Outputs {
 public:
  Outlet(Cluster& c, std::size_t i) : c_(c), i_(i) {}
  void send_datagram(gossip::Datagram d) override { c_.send_datagram(i_, std::move(d)); }
  void send_stream(gossip::StreamRequest r) override { c_.send_stream(i_, std::move(r)); }
  void notice(std::string line) override {
    std::ostringstream text;
    text << (c_.loop_.now().count() / 1000000) << "ms " << c_.nodes_[i_].name << ": " << line;
    c_.digest_bytes(text.str());
    c_.notices_.push_back(text.str());
  }
  void events(std::vector<gossip::Event> events) override {
    for (const auto& e : events) {
      c_.record_event(i_, e);
      c_.checker_.on_event(c_, i_, e);
      if (c_.event_hook_) c_.event_hook_(i_, e);
    }
  }

 private:
  Cluster& c_;
  std::size_t i_;
};

void Cluster::drain(std::size_t i) {
  Outlet out(*this, i);
  gossip::drain(*nodes_[i].node, out);
  checker_.after_step(*this, i);
  update_deadline(i);
}

void Cluster::update_deadline(std::size_t i) {
  SimNode& n = nodes_[i];
  if (n.deadline != Time::max()) deadlines_.erase({n.deadline, i});
  n.deadline = (n.running && !n.paused) ? n.node->next_deadline() : Time::max();
  if (n.deadline != Time::max()) deadlines_.insert({n.deadline, i});
}

bool Cluster::deliver_to(std::size_t i, std::uint64_t gen, bool is_datagram,
                         std::function<void()> fn) {
  SimNode& n = nodes_[i];
  if (!n.running || n.generation != gen) return false;
  if (n.paused) {
    if (is_datagram) {
      if (n.inbox_datagrams >= options_.pause_buffer) {
        ++dropped_paused_;
        return false;
      }
      ++n.inbox_datagrams;
    }
    n.inbox.push_back(std::move(fn));
    return true;
  }
  fn();
  return true;
}

void Cluster::send_datagram(std::size_t from, gossip::Datagram d) {
  ++datagrams_sent_;
  bytes_sent_ += d.bytes.size();
  const auto to_index = index_of(d.to);
  if (!to_index) return;  // nobody has that address
  const std::size_t to = *to_index;
  if (!net_.connected(from, to)) return;
  const std::string from_addr = nodes_[from].addr;
  if (filter_ && filter_(from_addr, d.to, d.bytes)) return;
  const std::vector<Duration> copies = net_.datagram_fate(from, to);
  for (std::size_t k = 0; k < copies.size(); ++k) {
    auto arrive = [this, from, to, from_addr, to_addr = d.to, bytes = d.bytes] {
      // A cut made while the datagram was in flight, or a member that moved
      // away from the address, loses it too.
      if (!net_.connected(from, to) || nodes_[to].addr != to_addr) return;
      deliver_to(to, nodes_[to].generation, true, [this, from, to, from_addr, bytes] {
        ++datagrams_delivered_;
        if (delivery_hook_) delivery_hook_(from, to, bytes);
        digest_u64(static_cast<std::uint64_t>(loop_.now().count()));
        digest_u64(to);
        digest_bytes(from_addr);
        digest_bytes(bytes);
        nodes_[to].node->handle_packet(loop_.now(), from_addr, bytes);
        drain(to);
      });
    };
    loop_.schedule(loop_.now() + copies[k], std::move(arrive));
  }
}

void Cluster::send_stream(std::size_t from, gossip::StreamRequest r) {
  ++streams_sent_;
  stream_bytes_ += r.bytes.size();
  const StreamKey key{from, nodes_[from].generation, r.id};
  open_streams_.insert(key);
  loop_.schedule(loop_.now() + options_.stream_timeout,
                 [this, key] { finish_stream(key, std::nullopt); });
  const auto to_index = index_of(r.to);
  if (!to_index) return;  // no such host: the connect times out
  const std::size_t to = *to_index;
  if (!net_.connected(from, to)) return;
  const auto leg = net_.stream_leg(from, to, options_.stream_timeout, options_.stream_rto);
  if (!leg) return;
  auto arrive = [this, key, from, to, from_addr = nodes_[from].addr, to_addr = r.to,
                 bytes = std::move(r.bytes)] {
    if (open_streams_.count(key) == 0) return;
    if (!net_.connected(from, to) || nodes_[to].addr != to_addr) return;
    if (!nodes_[to].running) {  // host up, nobody listening: refused
      const Duration back = net_.draw_delay(net_.link(to, from));
      loop_.schedule(loop_.now() + back, [this, key] { finish_stream(key, std::nullopt); });
      return;
    }
    deliver_to(to, nodes_[to].generation, false, [this, key, from, to, from_addr, bytes] {
      digest_u64(static_cast<std::uint64_t>(loop_.now().count()));
      digest_u64(to);
      digest_bytes(from_addr);
      digest_bytes(bytes);
      std::string reply = nodes_[to].node->handle_stream(loop_.now(), from_addr, bytes);
      drain(to);
      if (!net_.connected(to, from)) return;
      if (reply.empty()) {  // the peer closed without answering
        const Duration back = net_.draw_delay(net_.link(to, from));
        loop_.schedule(loop_.now() + back, [this, key] { finish_stream(key, std::nullopt); });
        return;
      }
      const auto back = net_.stream_leg(to, from, options_.stream_timeout, options_.stream_rto);
      if (!back) return;
      loop_.schedule(loop_.now() + *back, [this, key, from, to, reply = std::move(reply)] {
        if (!net_.connected(to, from)) return;
        finish_stream(key, reply);
      });
    });
  };
  loop_.schedule(loop_.now() + *leg, std::move(arrive));
}

void Cluster::finish_stream(const StreamKey& key, std::optional<std::string> reply) {
  if (open_streams_.erase(key) == 0) return;  // already answered or timed out
  const auto [from, gen, id] = key;
  deliver_to(from, gen, false, [this, from, id, reply = std::move(reply)] {
    if (reply) {
      digest_u64(static_cast<std::uint64_t>(loop_.now().count()));
      digest_u64(from);
      digest_bytes(*reply);
      nodes_[from].node->handle_stream_reply(loop_.now(), id, *reply);
    } else {
      digest_u64(id);
      nodes_[from].node->handle_stream_error(loop_.now(), id);
    }
    drain(from);
  });
}

bool Cluster::step(Time limit) {
  const Time t_node = deadlines_.empty() ? Time::max() : deadlines_.begin()->first;
  const Time t_ev = loop_.next_time();
  const Time t = std::min(t_node, t_ev);
  if (t == Time::max() || t > limit) return false;
  if (t_ev <= t_node) {
    loop_.run_one();
  } else {
    const std::size_t who = deadlines_.begin()->second;
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
        std::ostringstream msg;
        msg << "simulation stuck at t=" << loop_.now().count() << "ns (seed " << seed_ << ")";
        report_failure(msg.str());
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

bool Cluster::run_until_polled(const std::function<bool()>& pred, Duration max, Duration every) {
  const Time limit = loop_.now() + max;
  while (!pred()) {
    if (loop_.now() >= limit) return false;
    run_for(std::min(every, limit - loop_.now()));
  }
  return true;
}

// --- queries ---

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
    const auto members = nodes_[o].node->members();
    for (std::size_t m = 0; m < nodes_.size(); ++m) {
      if (m == o || !nodes_[m].running) continue;
      auto it = std::lower_bound(members.begin(), members.end(), nodes_[m].name,
                                 [](const gossip::Member& a, const std::string& b) {
                                   return a.name < b;
                                 });
      if (it == members.end() || it->name != nodes_[m].name ||
          it->state != gossip::MemberState::kAlive) {
        return false;
      }
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
  report_failure("no counter " + name);
  return 0;
}

}  // namespace ringd::sim
