// gossip/profiles.cc — see profiles.h.
//
// How long a crashed member takes to be declared dead everywhere, roughly:
//
//   detect ~ (first probe of it) + probe_interval           -> first suspicion
//          + max(min_timeout, time of k-th confirmation)   -> dead at the accuser
//          + a few gossip_intervals                        -> dead everywhere
//   min_timeout = suspicion_mult * max(1, (1 + log10 n) / 2) * probe_interval
//   (suspicion.h: the buddy rule tells the suspect within about one probe
//   period whatever n is; only the refutation's spread grows with log n)
//
// With n members each probing one member per period, somebody probes the
// crashed member within ~probe_interval * (n - 1) / n on average, and the
// k = indirect_checks confirmations arrive within about one probe round.
// serf (memberlist LAN: 1 s probe, 500 ms fixed timeout, suspicion_mult 4,
// max 6x) measures 7.4-8.6 s at n = 10.
//
// "lan": probe_interval 300 ms and suspicion_mult 4 give min_timeout 1.2 s at
// n = 10 (1.8 s at n = 100, 2.4 s at n = 1000), max 3x that. At n = 10 the
// k = 3 confirmations come from the other 8 probers well within a second, so
// a SIGKILLed member is dead everywhere after about 1.8 s: about a quarter of
// serf's time. Every probe is a ping and an ack, each a wake-up on both
// sides, so the probe period sets an idle agent's CPU: 200 ms (with
// suspicion_mult 5, the same 1.0 s min_timeout) detected ~0.3 s sooner but
// cost ~1.1 ms of CPU per second per agent at n = 30; 300 ms costs ~0.75.
// A member stalled for 1 s survives: the first suspicion comes a probe
// period or more into the stall, and min_timeout later it would be dead.
// Longer stalls (several seconds) are indistinguishable from a crash
// at this speed and are declared dead; the member refutes on resume. Calm
// comes from elsewhere than long timers:
//   * a healthy member is suspected only if the direct ping, all 3 relayed
//     pings and the TCP ping fail (at 10% loss about 0.19 * 0.04 before TCP
//     per probe), and then needs several independent confirmations to die
//     fast; without them the suspicion runs the full 3x (3 s at n = 10,
//     4.5 s at n = 100), while the buddy rule lets the next prober deliver
//     the suspicion to the member, which refutes at once — at n = 100 it is
//     probed about five times a second;
//   * a member that is paused or starved (timers firing late, missing acks
//     or nacks, having to refute) raises its awareness score and slows its
//     own probing, instead of accusing healthy peers (Lifeguard); one that
//     is cut off holds its suspicions rather than declaring deaths.
// The direct probe timeout starts at 80 ms and then follows the measured RTT
// (10 ms floor, 80 ms ceiling), so relays' nacks (their own timeout, also
// <= 80 ms) come back well inside the 300 ms period.
// Gossip every 100 ms to 3 members spreads news in O(log n) rounds.
// Push-pull every 30 s and healing every 30 s keep the background cost low.
//
// "wan": round trips of 50-300 ms with jitter. 1 s probe period; timeout
// starts at 500 ms, floor 30 ms, ceiling 400 ms; suspicion_mult 6 and 4x max
// (min 6 s at n = 10) ride out bursts of loss; gossip every 200 ms to 4
// members; push-pull and healing every 60 s. (memberlist WAN: 5 s / 3 s.)
//
// "local": every member on one host, round trips of microseconds but a
// shared, possibly overloaded CPU. 100 ms period, 40 ms timeout (5 ms floor),
// suspicion_mult 3, gossip every 50 ms, push-pull 15 s, healing 10 s.
#include "profiles.h"

namespace ringd::gossip {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::optional<Config> profile_config(std::string_view name) {
  Config c;  // the defaults are "lan"
  if (name == "lan") return c;
  if (name == "wan") {
    c.probe_interval = seconds(1);
    c.probe_timeout = milliseconds(500);
    c.probe_timeout_floor = milliseconds(30);
    c.probe_timeout_ceiling = milliseconds(400);
    c.suspicion_mult = 6;
    c.suspicion_max_timeout_mult = 4;
    c.gossip_interval = milliseconds(200);
    c.gossip_nodes = 4;
    c.push_pull_interval = seconds(60);
    c.heal_interval = seconds(60);
    c.digest_sync_interval = seconds(5);
    c.dead_forget_after = seconds(300);
    return c;
  }
  if (name == "local") {
    c.probe_interval = milliseconds(100);
    c.probe_timeout = milliseconds(40);
    c.probe_timeout_floor = milliseconds(5);
    c.probe_timeout_ceiling = milliseconds(40);
    c.suspicion_mult = 3;
    c.suspicion_max_timeout_mult = 3;
    c.gossip_interval = milliseconds(50);
    c.push_pull_interval = seconds(15);
    c.heal_interval = seconds(10);
    c.digest_sync_interval = seconds(1);
    return c;
  }
  return std::nullopt;
}

std::vector<std::string_view> profile_names() { return {"lan", "wan", "local"}; }

}  // namespace ringd::gossip
