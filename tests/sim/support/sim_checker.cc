// tests/sim/support/sim_checker.cc — see sim_checker.h.
#include "support/sim_checker.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "agent/ring_input.h"
#include "ring/ring.h"
#include "support/sim_cluster.h"
#include "support/sim_report.h"

namespace ringd::sim {
namespace {

bool is_live(gossip::MemberState s) {
  return s == gossip::MemberState::kAlive || s == gossip::MemberState::kSuspect;
}

std::int64_t to_ms(Time t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t).count(); }

}  // namespace

void Checker::violation(const Cluster& c, std::string what) {
  std::ostringstream msg;
  msg << "invariant violated at t=" << to_ms(c.now()) << "ms (seed " << c.seed() << "): " << what;
  violations_.push_back(msg.str());
  if (options_.fail_on_violation) report_failure(violations_.back());
}

void Checker::on_restart(std::size_t i) {
  if (i < seen_.size()) seen_[i].clear();
}

void Checker::check_incarnation(const Cluster& c, std::size_t observer, const gossip::Member& m) {
  if (seen_.size() <= observer) seen_.resize(observer + 1);
  auto [it, fresh] = seen_[observer].try_emplace(m.name, m.incarnation);
  if (fresh) return;
  if (m.incarnation < it->second) {
    std::ostringstream msg;
    msg << c.name(observer) << " saw " << m.name << "'s incarnation go from " << it->second
        << " down to " << m.incarnation;
    violation(c, msg.str());
  }
  it->second = m.incarnation;
}

void Checker::on_event(const Cluster& c, std::size_t o, const gossip::Event& e) {
  if (options_.incarnations) {
    // Without full scans a forgotten member is only noticed when it is
    // learned again (kJoined), so its history restarts there.
    if (!options_.scan_views && e.kind == gossip::Event::Kind::kJoined && o < seen_.size()) {
      seen_[o].erase(e.member.name);
    }
    check_incarnation(c, o, e.member);
  }
  if (!options_.false_deaths || e.kind != gossip::Event::Kind::kDead) return;
  const auto found = c.index_of_name(e.member.name);
  if (!found || *found == o) return;
  const std::size_t m = *found;
  if (!c.running(m)) return;
  const bool pauses = options_.pauses_are_faults;
  if (pauses && c.paused(m)) return;
  Time since = std::max(c.last_fault(m), c.last_fault(o));
  if (pauses) since = std::max({since, c.last_pause(m), c.last_pause(o)});
  if (c.now() - since < options_.grace) return;
  if (!c.network().connected_both(o, m)) return;
  // Majority: with pauses not counted as faults, a paused member still
  // counts as reachable.
  std::size_t running = 0;
  std::size_t reach = 0;
  for (std::size_t j = 0; j < c.size(); ++j) {
    if (!c.running(j)) continue;
    ++running;
    if (j == m || ((!pauses || !c.paused(j)) && c.network().connected_both(m, j))) ++reach;
  }
  if (2 * reach <= running) return;
  ++false_deaths_;
  std::ostringstream msg;
  msg << c.name(o) << " declared " << e.member.name << " (inc " << e.member.incarnation
      << ") dead, but it is running" << (c.paused(m) ? " (paused)" : "")
      << ", reaches " << reach << " of " << running
      << " running members, and no fault touched it or the observer for "
      << to_ms(c.now() - since) << " ms";
  violation(c, msg.str());
}

void Checker::after_step(const Cluster& c, std::size_t o) {
  ++steps_;
  if (!options_.incarnations || !options_.scan_views || !c.running(o)) return;
  if (seen_.size() <= o) seen_.resize(o + 1);
  auto& seen = seen_[o];
  const auto members = c.node(o).members();  // sorted by name
  // Walk both sorted sequences: check every member, forget the forgotten.
  auto it = seen.begin();
  for (const auto& m : members) {
    while (it != seen.end() && it->first < m.name) it = seen.erase(it);
    if (it != seen.end() && it->first == m.name) {
      if (m.incarnation < it->second) {
        std::ostringstream msg;
        msg << c.name(o) << " saw " << m.name << "'s incarnation go from " << it->second
            << " down to " << m.incarnation;
        violation(c, msg.str());
      }
      it->second = m.incarnation;
      ++it;
    } else {
      it = seen.emplace_hint(it, m.name, m.incarnation);
      ++it;
    }
  }
  seen.erase(it, seen.end());
}

std::string Checker::ring_checksum(const std::vector<gossip::Member>& members) {
  // The agent's rule and its default ring (the ring options of a default
  // AgentConfig are ring::Options{}), built the way RingPublisher builds it.
  return ring::Ring::build_weighted(agent::ring_input(members).all, ring::Options{})->checksum();
}

std::string Checker::ring_checksum(const Cluster& c, std::size_t i) { return ring_checksum(c.node(i).members()); }

bool Checker::converged(const Cluster& c, std::string* why) {
  auto fail = [why](const std::string& text) {
    if (why != nullptr) *why = text;
    return false;
  };
  std::set<std::string> expected;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c.running(i)) expected.insert(c.name(i));
  }
  std::optional<std::string> checksum;
  std::size_t checksum_owner = 0;
  for (std::size_t o = 0; o < c.size(); ++o) {
    if (!c.running(o)) continue;
    if (c.paused(o)) return fail(c.name(o) + " is paused");
    if (!c.node(o).joined()) return fail(c.name(o) + " has not joined");
    std::set<std::string> live;
    for (const auto& m : c.node(o).members()) {
      if (!is_live(m.state)) continue;
      if (m.state != gossip::MemberState::kAlive && expected.count(m.name) != 0) {
        return fail(c.name(o) + " still suspects " + m.name);
      }
      live.insert(m.name);
    }
    if (live != expected) {
      std::ostringstream msg;
      msg << c.name(o) << " sees " << live.size() << " live members, expected "
          << expected.size() << ":";
      for (const auto& n : expected) {
        if (live.count(n) == 0) msg << " missing " << n;
      }
      for (const auto& n : live) {
        if (expected.count(n) == 0) msg << " extra " << n;
      }
      return fail(msg.str());
    }
    const std::string sum = ring_checksum(c, o);
    if (!checksum) {
      checksum = sum;
      checksum_owner = o;
    } else if (*checksum != sum) {
      return fail(c.name(o) + " ring " + sum + " != " + c.name(checksum_owner) + " ring " +
                  *checksum);
    }
  }
  return true;
}

}  // namespace ringd::sim
