// tests/sim/support/sim_chaos.cc — see sim_chaos.h.
#include "support/sim_chaos.h"

#include <algorithm>
#include <iomanip>
#include <random>
#include <sstream>

namespace ringd::sim {
namespace {

struct Action {
  Time at;
  std::uint64_t order;  // ties: schedule order
  std::string what;
  std::function<void(Cluster&)> run;
};

// Concatenation through a stream (string operator+ chains trip GCC 12's -Wrestrict).
template <class... Ts>
std::string cat(const Ts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
}

std::string secs(Duration d) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1)
    << std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 1000.0 << 's';
  return s.str();
}

class Planner {
 public:
  Planner(std::uint64_t seed, const ChaosOptions& o, std::size_t n)
      : rng_(mix_seed(seed ^ 0x5eedc4a05ULL)), o_(o), n_(n) {}

  std::vector<Action> plan(Time t0) {
    const int faults = pick(o_.min_faults, o_.max_faults);
    for (int f = 0; f < faults; ++f) add_fault(t0);
    std::sort(actions_.begin(), actions_.end(), [](const Action& a, const Action& b) {
      return a.at != b.at ? a.at < b.at : a.order < b.order;
    });
    return std::move(actions_);
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::size_t member() { return std::uniform_int_distribution<std::size_t>(0, n_ - 1)(rng_); }
  // Member 0 is the seed everyone restarts through; keep it out of the
  // permanent faults so restarts have somewhere to go.
  std::size_t victim() { return std::uniform_int_distribution<std::size_t>(1, n_ - 1)(rng_); }
  Duration span(Duration lo, Duration hi) {
    return Duration(std::uniform_int_distribution<Duration::rep>(lo.count(), hi.count())(rng_));
  }
  void at(Time t, std::string what, std::function<void(Cluster&)> fn) {
    actions_.push_back(Action{t, order_++, std::move(what), std::move(fn)});
  }
  static std::string nm(std::size_t i) { return cat('n', i); }

  void add_fault(Time t0) {
    const Duration d = span(ms(200), o_.max_split);
    const Duration latest = std::max(o_.fault_phase - d, ms(1));
    const Time start = t0 + span(Duration::zero(), latest);
    const Time end = start + d;
    const std::string dur = cat(" for ", secs(d));
    switch (pick(0, 9)) {
      case 0: {  // loss burst on every link
        const double p = std::uniform_real_distribution<double>(0.01, o_.max_loss)(rng_);
        std::ostringstream what;
        what << "loss " << std::setprecision(2) << p * 100 << "%" << dur;
        at(start, what.str(), [p](Cluster& c) { c.set_drop_rate(p); });
        at(end, "loss 0%", [](Cluster& c) { c.set_drop_rate(0.0); });
        break;
      }
      case 1: {  // jitter (reordering) and duplication everywhere
        LinkParams l;
        l.delay_max = span(ms(5), ms(80));
        l.duplicate = std::uniform_real_distribution<double>(0.0, 0.1)(rng_);
        at(start, cat("jitter to ", secs(l.delay_max), ", duplication", dur),
           [l](Cluster& c) { c.set_default_link(l); });
        at(end, "jitter back", [](Cluster& c) { c.set_default_link(LinkParams{}); });
        break;
      }
      case 2: {  // one cut directed link
        if (!o_.splits) return add_fault(t0);
        const std::size_t a = member();
        std::size_t b = member();
        if (a == b) b = (b + 1) % n_;
        at(start, cat("cut ", nm(a), "->", nm(b), dur), [a, b](Cluster& c) { c.block(a, b); });
        at(end, cat("uncut ", nm(a), "->", nm(b)), [a, b](Cluster& c) { c.unblock(a, b); });
        break;
      }
      case 3: {
        if (!o_.splits) return add_fault(t0);
        const std::size_t i = member();
        at(start, cat("isolate ", nm(i), dur), [i](Cluster& c) { c.isolate(i); });
        at(end, cat("heal ", nm(i)), [i](Cluster& c) { c.heal(i); });
        break;
      }
      case 4: {  // a minority split off
        if (!o_.splits) return add_fault(t0);
        std::vector<std::size_t> all(n_);
        for (std::size_t i = 0; i < n_; ++i) all[i] = i;
        std::shuffle(all.begin(), all.end(), rng_);
        all.resize(std::uniform_int_distribution<std::size_t>(1, (n_ - 1) / 2)(rng_));
        std::sort(all.begin(), all.end());
        std::ostringstream what;
        what << "partition {";
        for (std::size_t i : all) what << ' ' << nm(i);
        what << " }" << dur;
        at(start, what.str(), [all](Cluster& c) { c.partition({all}); });
        at(end, "heal partition", [](Cluster& c) { c.heal_partitions(); });
        break;
      }
      case 5: {
        if (!o_.pauses) return add_fault(t0);
        const std::size_t i = member();
        const Duration p = std::min(d, o_.max_pause);
        at(start, cat("pause ", nm(i), " for ", secs(p)), [i](Cluster& c) { c.pause(i); });
        at(start + p, cat("resume ", nm(i)), [i](Cluster& c) { c.resume(i); });
        break;
      }
      case 6: {
        if (!o_.crashes) return add_fault(t0);
        const std::size_t i = victim();
        at(start, cat("crash ", nm(i)), [i](Cluster& c) { c.crash(i); });
        break;
      }
      case 7: {
        if (!o_.restarts) return add_fault(t0);
        const std::size_t i = victim();
        const bool moved = pick(0, 1) == 1;
        at(start, cat("crash ", nm(i)), [i](Cluster& c) { c.crash(i); });
        at(end, cat(moved ? "restart at a new address " : "restart ", nm(i)),
           [i, moved](Cluster& c) {
             if (moved) {
               c.restart_moved(i, {c.addr(0)});
             } else {
               c.restart(i, {c.addr(0)});
             }
           });
        break;
      }
      case 8: {
        if (!o_.leaves) return add_fault(t0);
        const std::size_t i = victim();
        const bool rejoin = pick(0, 1) == 1;
        at(start, cat("leave ", nm(i)), [i](Cluster& c) {
          if (c.running(i) && !c.paused(i)) c.leave(i);
        });
        // The process exits a little later (leave_done or not).
        at(start + ms(500), cat("exit ", nm(i)), [i](Cluster& c) { c.crash(i); });
        if (rejoin) {
          at(std::max(end, start + ms(600)), cat("rejoin ", nm(i)),
             [i](Cluster& c) { c.restart(i, {c.addr(0)}); });
        }
        break;
      }
      default: {  // a lossy link pair (heavy loss both ways between two members)
        if (!o_.splits) return add_fault(t0);
        const std::size_t a = member();
        std::size_t b = member();
        if (a == b) b = (b + 1) % n_;
        const double p = std::uniform_real_distribution<double>(0.3, 1.0)(rng_);
        std::ostringstream what;
        what << "loss " << std::setprecision(2) << p * 100 << "% " << nm(a) << "<->" << nm(b)
             << dur;
        at(start, what.str(), [a, b, p](Cluster& c) {
          c.set_link_drop_rate(a, b, p);
          c.set_link_drop_rate(b, a, p);
          c.mark_fault(a);
          c.mark_fault(b);
        });
        at(end, cat("link ", nm(a), "<->", nm(b), " clean"), [a, b](Cluster& c) {
          c.network().clear_link(a, b);
          c.network().clear_link(b, a);
          c.mark_fault(a);
          c.mark_fault(b);
        });
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  const ChaosOptions& o_;
  std::size_t n_;
  std::vector<Action> actions_;
  std::uint64_t order_ = 0;
};

}  // namespace

std::string ChaosResult::describe() const {
  std::ostringstream s;
  s << "chaos seed " << seed << " (replay: RINGD_SIM_SEED=" << seed << "), n=" << n << ", "
    << (converged ? "converged" : "did NOT converge") << " " << secs(settle_took)
    << " after the faults";
  if (!converged) s << " (" << why << ")";
  s << ", " << violations.size() << " violation(s)\n  schedule:";
  for (const auto& line : schedule) s << "\n    " << line;
  for (std::size_t k = 0; k < violations.size() && k < 10; ++k) s << "\n  ! " << violations[k];
  return s.str();
}

ChaosResult run_chaos(std::uint64_t seed, const ChaosOptions& o) {
  ChaosResult r;
  r.seed = seed;
  std::mt19937_64 size_rng(mix_seed(seed ^ 0x517eULL));
  r.n = std::uniform_int_distribution<std::size_t>(o.min_n, o.max_n)(size_rng);

  SimOptions so;
  so.record_trace = o.record_trace;
  so.checks.false_deaths = true;
  so.checks.pauses_are_faults = true;
  so.checks.grace = o.grace;
  so.checks.fail_on_violation = false;
  Cluster c(seed, so);
  for (std::size_t i = 0; i < r.n; ++i) {
    c.add_node([i](gossip::Config& cfg) {
      cfg.service = cat("10.200.", i / 256, '.', i % 256, ":8000");
    });
  }
  for (std::size_t i = 0; i < r.n; ++i) {
    c.start(i, i == 0 ? std::vector<std::string>{} : std::vector<std::string>{c.addr(0)});
  }
  if (!c.run_until_polled([&] { return c.converged(); }, sec(30), ms(100))) {
    r.why = "the initial join did not converge";
    return r;
  }
  const Time t0 = c.now();
  Planner planner(seed, o, r.n);
  std::vector<Action> actions = planner.plan(t0);
  for (auto& a : actions) {
    if (a.at > c.now()) c.run_for(a.at - c.now());
    r.schedule.push_back(cat("t=", secs(a.at - t0), ' ', a.what));
    a.run(c);
  }
  if (t0 + o.fault_phase > c.now()) c.run_for(t0 + o.fault_phase - c.now());
  // The faults stop: every link clean, every paused member resumed.
  c.heal_all();
  c.set_default_link(LinkParams{});
  for (std::size_t i = 0; i < r.n; ++i) c.resume(i);
  r.schedule.push_back(cat("t=", secs(c.now() - t0), " all faults stop"));
  const Time calm = c.now();
  r.converged = c.run_until_polled([&] { return Checker::converged(c, nullptr); }, o.settle, ms(250));
  r.settle_took = c.now() - calm;
  if (!r.converged) Checker::converged(c, &r.why);
  r.violations = c.checker().violations();
  for (const auto& v : c.violations()) r.violations.push_back(cat("event did not change the view: ", v));
  std::string why;
  if (!c.events_match_members(&why)) r.violations.push_back(cat("events vs members(): ", why));
  r.digest = c.trace_digest();
  r.steps = c.checker().steps();
  r.trace = c.trace();
  return r;
}

}  // namespace ringd::sim
