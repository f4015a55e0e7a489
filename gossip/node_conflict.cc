// gossip/node_conflict.cc — one name, two addresses (see node_impl.h).
//
// A member's name is its identity: the ring, the logs and every SWIM rule
// key on it. Two live agents started with the same --node would otherwise
// take turns refuting each other, and every agent would follow the newest
// claim, flipping the member's address (and its keys' backend) every few
// seconds. The same message, "alive at a new address, higher incarnation",
// is also how a member restarted on a new address takes its old place. The
// two differ in one fact: whether anything still answers as that name at
// the old address. So before a live member's address changes we ask:
//
//   * A third party that hears "alive at a new address" about a member it
//     holds alive (a suspect one has stopped answering already: it moves at
//     once) pings the old address (UDP and TCP, target =
//     the name) and holds the claim. An answer within two probe timeouts
//     means the first holder lives: the claim is refused, logged, and
//     claims from that address are refused for kConflictMemory without
//     asking again. Silence means the member moved: the claim applies as
//     usual (one "updated" event, no death).
//   * A joining agent that finds its own name alive at another address
//     asks the same question. Answered, it yields: it logs the conflict,
//     stays unjoined (no probes, acks, gossip or leave message under the
//     name, so nobody mistakes it for the holder),
//     and asks again on every join retry, so it joins once the first
//     holder is gone. Unanswered, it refutes and takes the name over (a
//     restart on a new address).
//   * A joined agent that hears its own name claimed from another address
//     keeps its name by refuting, as before, and logs the conflict; so does
//     an agent pinged by another agent that uses its name.
// memberlist refuses every address change of a member that is not dead or
// left (and logs "Conflicting address"); asking first keeps restarts on a
// new address as fast as before.
#include <algorithm>

#include "node_impl.h"

namespace ringd::gossip {
namespace {

// How long a refused claimant address stays refused without asking again.
constexpr std::chrono::seconds kConflictMemory{30};
// At most one conflict notice per name per this interval.
constexpr std::chrono::seconds kConflictNoticeInterval{10};

}  // namespace

void Node::Impl::conflict_notice(Time now, const std::string& name, std::string line) {
  count(C::kNameConflicts);
  auto [it, fresh] = conflict_notices.try_emplace(name, now);
  if (!fresh && now - it->second < kConflictNoticeInterval) return;
  it->second = now;
  if (conflict_notices.size() > kMaxAddressChecks) conflict_notices.clear();  // bounded; a reset costs a line
  notice("name conflict: " + std::move(line));
}

std::uint64_t Node::Impl::ask_address(const std::string& name, const std::string& address) {
  const std::uint64_t seq = next_seq++;
  count(C::kAddressChecks);
  count(C::kPingsSent);
  send_exactly(address, {msg::Ping{seq, name, cfg.name, self_rec().address()}});
  send_tcp_ping_to(address, name, seq);
  return seq;
}

bool Node::Impl::hold_address_change(Time now, const MemberRecord& rec, const msg::Alive& a) {
  const MemberRecord& m = rec;
  auto refused = refused_claims.find(a.name);
  if (refused != refused_claims.end()) {
    if (refused->second.address == a.address && now < refused->second.until) {
      count(C::kNameConflicts);
      return true;
    }
    refused_claims.erase(refused);
  }
  auto pending = address_checks.find(a.name);
  if (pending != address_checks.end()) {
    if (!pending->second.claim || a.incarnation > pending->second.claim->incarnation) pending->second.claim = a;
    return true;
  }
  if (address_checks.size() >= kMaxAddressChecks) {
    count(C::kNameConflicts);  // too many at once: keep what we know
    return true;
  }
  AddressCheck check;
  check.holder_address = m.address();
  check.claim = a;
  check.deadline = now + probe_timeout_for(&rec) * 2;
  check.seq = ask_address(a.name, m.address());
  address_checks.emplace(a.name, std::move(check));
  return true;
}

void Node::Impl::claim_on_our_name(Time now, const msg::Alive& a) {
  const MemberRecord& s = self_rec();
  if (joined_) {
    conflict_notice(now, cfg.name,
                    "another agent at " + a.address + " claims our name " + cfg.name +
                        " (incarnation " + std::to_string(a.incarnation) + "); keeping it (we are " +
                        s.address() + "). Give every agent a unique --node");
    refute(a.incarnation);
    return;
  }
  // We are joining: is the other holder alive?
  if (address_checks.contains(cfg.name)) return;
  AddressCheck check;
  check.holder_address = a.address;
  check.incarnation = a.incarnation;
  check.deadline = now + cfg.probe_timeout * 2;
  check.seq = ask_address(cfg.name, a.address);
  address_checks.emplace(cfg.name, std::move(check));
}

bool Node::Impl::answer_address_check(Time now, std::uint64_t seq, const std::string& source) {
  auto it = std::find_if(address_checks.begin(), address_checks.end(),
                         [&](const auto& entry) { return entry.second.seq == seq; });
  if (it == address_checks.end()) return false;
  const std::string name = it->first;
  AddressCheck check = std::move(it->second);
  address_checks.erase(it);
  // Another member answering from the old address is no holder of the name.
  conclude_check(now, name, check, source == name);
  return true;
}

void Node::Impl::expire_address_checks(Time now) {
  for (auto it = address_checks.begin(); it != address_checks.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    const std::string name = it->first;
    AddressCheck check = std::move(it->second);
    it = address_checks.erase(it);
    conclude_check(now, name, check, false);
  }
}

void Node::Impl::conclude_check(Time now, const std::string& name, const AddressCheck& check, bool holder_lives) {
  if (name == cfg.name) {
    if (holder_lives) {
      yielded = true;
      joined_ = false;
      conflict_notice(now, name,
                      "the name " + name + " is held by a live agent at " + check.holder_address +
                          "; this agent (" + self_rec().address() +
                          ") stays out of the cluster and retries joining every " +
                          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             cfg.join_retry_interval)
                                             .count()) +
                          " ms. Give every agent a unique --node");
      return;
    }
    // Nobody answers as us there: a stale record of an earlier life.
    yielded = false;
    joined_ = true;
    refute(check.incarnation);
    return;
  }
  if (holder_lives) {
    if (refused_claims.size() >= kMaxAddressChecks) refused_claims.clear();
    refused_claims[name] = RefusedClaim{check.claim ? check.claim->address : std::string(), now + kConflictMemory};
    conflict_notice(now, name,
                    "member " + name + " lives at " + check.holder_address + ", but " +
                        (check.claim ? check.claim->address : std::string("another address")) +
                        " also claims that name; keeping the first holder");
    return;
  }
  const MemberRecord* rec = table.find(name);
  if (rec == nullptr || !check.claim) return;
  if (rec->address() != check.holder_address) return;  // changed meanwhile
  apply_alive_unchecked(now, *rec, *check.claim);
}

Time Node::Impl::next_address_check() const {
  Time t = kNever;
  for (const auto& [name, check] : address_checks) t = std::min(t, check.deadline);
  return t;
}

void Node::Impl::pinged_by_our_name(Time now, const msg::Ping& p) {
  if (p.source != cfg.name || p.source_address == self_rec().address()) return;
  conflict_notice(now, cfg.name,
                  "an agent at " + p.source_address + " uses our name " + cfg.name +
                      "; it was told we hold it. Give every agent a unique --node");
}

}  // namespace ringd::gossip
