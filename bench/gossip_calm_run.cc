#include "gossip_calm_run.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>

#include "gossip/suspicion.h"

namespace ringd::simbench {

CalmRun run_calm(std::size_t n, std::uint64_t seed, Duration length, double loss,
                 Duration pause) {
  const auto wall0 = WallClock::now();
  CalmRun r;
  Cluster c(seed, bench_options());
  Views views(n);
  bool measuring = false;
  // A verdict about a paused member is fair only once it has been silent
  // for at least the shortest suspicion timeout (a crashed member cannot
  // be declared dead sooner either); earlier, or about a member that is not
  // paused, it is a false death.
  const ringd::gossip::Config defaults{};
  const Duration fair_after =
      ringd::gossip::suspicion_timeout(defaults.suspicion_mult, n, defaults.probe_interval);
  std::optional<std::size_t> paused_who;  // the member of the current pause episode
  std::uint64_t paused_inc = 0;           // its incarnation when it stopped
  Time paused_at{};
  bool episode_dead = false;
  std::set<std::pair<std::size_t, std::uint64_t>> killed;
  c.set_event_hook([&](std::size_t o, const Event& e) {
    views.on_event(c, o, e);
    if (!measuring) return;
    const auto m = c.index_of_name(e.member.name);
    if (!m || o == *m || !c.running(*m)) return;
    if (e.kind == Event::Kind::kSuspect) ++r.suspect_events;
    if (e.kind != Event::Kind::kDead) return;
    if (paused_who && *m == *paused_who && e.member.incarnation <= paused_inc &&
        (episode_dead || (c.paused(*m) && c.now() - paused_at >= fair_after))) {
      // The pause's own verdict (or its spread after the resume).
      ++r.paused_dead_events;
      if (!episode_dead) ++r.paused_declared_dead;
      episode_dead = true;
      return;
    }
    ++r.dead_events;
    killed.insert({*m, e.member.incarnation});
  });
  for (std::size_t i = 0; i < n; ++i) c.add_node();
  for (std::size_t i = 0; i < n; ++i) {
    c.start(i, i == 0 ? std::vector<std::string>{} : std::vector<std::string>{c.addr(0)});
  }
  if (!c.run_until_polled([&] { return views.all_alive(n); }, sec(120), ms(100))) {
    std::cerr << "gossip_sim_bench: calm run (seed " << seed << ") did not converge\n";
  }
  c.run_for(sec(5));
  measuring = true;
  c.set_drop_rate(loss);
  std::mt19937_64 rng(ringd::sim::mix_seed(seed ^ 0x9a05eULL));
  const Time end = c.now() + length;
  while (c.now() < end) {
    const Duration slice = std::min<Duration>(sec(60), end - c.now());
    if (pause > Duration::zero() && slice >= pause) {
      // Once a minute a random member stops for `pause`, then resumes.
      const std::size_t who = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
      c.run_for(slice / 2);
      const Time slice_end = c.now() - slice / 2 + slice;
      paused_who = who;
      paused_inc = c.node(who).self().incarnation;
      paused_at = c.now();
      episode_dead = false;
      c.pause(who);
      ++r.pauses;
      c.run_for(pause);
      c.resume(who);
      const Time resumed_at = c.now();
      if (episode_dead) {
        // How long until every other member has it alive again.
        auto back = [&] {
          for (std::size_t o = 0; o < n; ++o) {
            if (o != who && c.running(o) && !views.alive(o, who)) return false;
          }
          return true;
        };
        if (c.run_until_polled(back, slice_end - c.now(), ms(10))) {
          r.back_alive_s.push_back(seconds(c.now() - resumed_at));
        } else {
          ++r.not_back;
        }
      }
      if (slice_end > c.now()) c.run_for(slice_end - c.now());
    } else {
      c.run_for(slice);
    }
  }
  r.members_killed = killed.size();
  r.wall_s = wall_since(wall0);
  return r;
}

}  // namespace ringd::simbench
