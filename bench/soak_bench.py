#!/usr/bin/python3
"""Soak (issue 13 item 4): one cluster of real agents under steady packet loss
and a churn event every minute, for --minutes (default 30).

The agents come from tests/net/netlab.py: each in its own network namespace
on one bridge, 10.213.47.0/24. Every packet arriving at every agent (UDP and
TCP) is dropped with probability --loss (default 5%) for the whole run. At
0:30, 1:30, ... one churn event, the kinds in turn (--kinds):

  kill   SIGKILL an agent, start it again (same name and address) --down s later
  leave  SIGTERM (graceful leave), start it again --down s later
  stop   SIGSTOP an agent until every other agent has it dead, 5 s more
         (at least 10 s in all), then SIGCONT
  move   SIGKILL an agent and start it at once on a new address (same name)

kill, leave and move hit the upper half of the agents (a5..a9 of 10), in
turn; stop hits every agent in turn (a0 first), as it does not replace the
process. The lower half (the three seeds among them) is never restarted,
so its processes live the whole run.

Measured and asserted (exit status 1 when one fails):
  - false deaths: 0. A false death is a dead/left verdict about a member
    other than the one being churned, in any agent's log ("member X dead")
    or in /members polled every second on every agent (DeathWatch of
    tests/net/test_net_faults.py, one watch per event window, the churned
    member exempt until the cluster is back to one view).
  - every event seen by all: each other agent logged the churned member
    down (dead; left or dead for a leave) and then back (alive/joined; for a
    move: the member at its new address), and then all agents showed one
    view and one ring checksum. Times come from the agents' log stamps.
  - RSS flat: VmRSS of every agent every 10 s; each process that lives the
    whole run is compared at the end against its sample at the end of the
    warm-up (--warmup, default 3 min, at most a third of the run): growth
    at most 10%. A restarted process is measured the same way from its own
    start + warm-up when it then lives at least a third of the run; the
    others are counted and left out.
  - the cluster converged and every process running at the end; the loss
    counters of iptables near --loss; wall time at most the run + 3 min.

Run as root:

    RINGD_BIN=build/ringd /usr/bin/python3 bench/soak_bench.py [--minutes 30]
        [--agents 10] [--loss 0.05] [--extra-args="--flag value"] [--out FILE]

Progress goes to stderr; a Markdown section (for bench/RESULTS.md, see
bench/run.sh, section soak) to stdout and to --out, its last line a one-line
summary. KEEP_RUNDIR=1 keeps the agents' logs.
"""
import argparse
import os
import shlex
import signal
import statistics
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "net"))
import netlab  # noqa: E402
from netlab import SUBNET, Lab, address_in_subnet  # noqa: E402
from test_net_faults import COUNTERS, DeathWatch  # noqa: E402

KINDS = ("kill", "leave", "stop", "move")
FIRST_HOST = 11          # agents at 10.213.47.11.., moves go to .61..
MOVE_HOSTS = range(61, 100)
POLL_EVERY = 1.0         # DeathWatch polls of /members on every agent
RSS_EVERY = 10.0
DETECT_MAX = 40.0        # a stopped agent must be dead on all others within
UP_MAX = 30.0            # back alive on all others within, after the restart
CONVERGE_MAX = 30.0      # one view and one checksum within, after that
STOP_EXTRA = 5.0         # SIGSTOP held this long after all others had it dead
STOP_MIN = 10.0
RSS_LIMIT = 10.0         # percent
SLACK = 180.0            # wall time allowed beyond the run
DOWN_KINDS = {"kill": ("dead",), "leave": ("left", "dead"), "stop": ("dead",)}
UP_KINDS = ("alive", "joined")


def log(msg):
    sys.stderr.write("%s soak: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def mmss(seconds):
    if seconds is None:
        return "?"
    seconds = max(0, int(round(seconds)))
    return "%d:%02d" % (seconds // 60, seconds % 60)


def fmt_s(x):
    if x is None:
        return "—"
    return "%.0f ms" % (x * 1000) if x < 0.1 else "%.2f s" % x


class Life:
    """One process of one agent: RSS samples (t since soak start, kB)."""

    def __init__(self, name, pid, start, initial):
        self.name, self.pid, self.start, self.initial = name, pid, start, initial
        self.samples = []
        self.ended = False


class Soak:
    def __init__(self, args, lab, cluster, started):
        self.args, self.lab, self.c = args, lab, cluster
        self.started = started                      # monotonic, program start
        self.hard_deadline = started + args.minutes * 60 + SLACK - 25  # room to clean up
        self.t0 = None                              # monotonic, soak start (loss on)
        self.lives = []
        self.active = {}                            # name -> Life
        self.next_rss = 0.0
        self.next_poll = 0.0
        self.windows = []                           # closed DeathWatch windows
        self.watch = None
        self.events = []                            # dicts, one per churn event
        self.failures = []
        self.move_cursor = 0
        self.taken_down = set()                     # agents a churn event has stopped on purpose
        self.completed = False                      # run() got to its end
        self.warmup = 180.0
        self.long_lived = []
        self.skipped = 0
        self.loss = None                            # (arrived, dropped) at the end
        self.soak_seconds = None
        self.metrics0 = self.metrics1 = {}
        self.final_converged = None
        self.deaths_info = (0, [], 0)
        self.rss_growth = (None, None)
        self.loadavg = []                           # 1-minute load average at each RSS sample

    # ---- bookkeeping ----------------------------------------------------

    def fail(self, what):
        self.failures.append(what)
        log("FAIL: " + what)

    def now(self):
        return time.monotonic() - self.t0

    def new_window(self, label, exempt=()):
        """Starts a DeathWatch window (from the logs' current ends) and
        closes the one before it: DeathWatch.finish() reads to the end of
        each log, so a window is read when it ends. The next window starts
        just before, so a line written in between counts in both, never in
        neither."""
        old = self.watch
        self.watch = DeathWatch(self.c, exempt=exempt, counters=False)
        self.watch.label = label
        self.watch.wall0 = time.time()
        if old is not None:
            self.close_window(old)

    def close_window(self, w):
        """Counts w's false deaths now, with the log lines as evidence."""
        w.count = w.finish()
        w.lines, w.by_victim = [], 0
        self.windows.append(w)
        if not w.count:
            return
        for a in self.c.agents:
            for name, kind, addr, inc, at in a.events(w.offsets.get(a.name, 0)):
                if name == a.name or name in w.exempt or kind not in ("dead", "left"):
                    continue
                if a.name in w.exempt:
                    w.by_victim += 1
                w.lines.append("%s (window \"%s\"): %s logged `member %s %s (address %s, incarnation %d)` "
                               "at %s" % (mmss((at or self.wall0) - self.wall0), w.label, a.name, name, kind,
                                          addr, inc, time.strftime("%H:%M:%S", time.localtime(at or 0))
                                          + ("%.3f" % ((at or 0) % 1))[1:]))
        for obs, name, state in sorted(w.polled_dead):
            w.lines.append("window \"%s\": %s showed %s as %s in /members" % (w.label, obs, name, state))
        log("FALSE DEATHS in window \"%s\": %d\n  %s" % (w.label, w.count, "\n  ".join(w.lines)))

    def register(self, agent, initial=False):
        old = self.active.get(agent.name)
        if old is not None:
            old.ended = True
        life = Life(agent.name, agent.pid, self.now(), initial)
        self.lives.append(life)
        self.active[agent.name] = life

    def sample_rss(self):
        t = self.now()
        try:
            with open("/proc/loadavg") as f:
                self.loadavg.append(float(f.read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
        for a in self.c.agents:
            life = self.active.get(a.name)
            if life is None or life.ended:
                continue
            if not a.alive() or a.pid != life.pid:
                life.ended = True
                continue
            kb = a.rss_kb()
            if kb is not None:
                life.samples.append((t, kb))

    def check_running(self):
        """An agent that exited when no churn event took it down crashed or
        was killed from outside (a name-based kill on a shared machine): the
        rest of the run would measure nothing, so stop with its last lines."""
        for a in self.c.agents:
            if a.name not in self.taken_down and not a.alive():
                gone = [b.name for b in self.c.agents if b.name not in self.taken_down and not b.alive()]
                raise RuntimeError("%s exited, not by a churn event (exit code %s; not running now: %s); its "
                                   "last log lines:\n%s" % (a.name, a.popen.returncode if a.popen else None,
                                                            gone, a.log_tail(4)))

    def tick(self):
        if time.monotonic() > self.hard_deadline:
            raise TimeoutError("wall-time budget (run + %.0f s) nearly used up" % SLACK)
        self.check_running()
        mono = time.monotonic()
        if mono >= self.next_rss:
            self.sample_rss()
            # on a grid from the soak start, so a sample falls on the warm-up mark
            k = int((mono - self.t0) / RSS_EVERY) + 1
            self.next_rss = self.t0 + k * RSS_EVERY
        if mono >= self.next_poll:
            self.watch.poll()
            self.next_poll = time.monotonic() + POLL_EVERY

    def sleep_until(self, mono):
        while True:
            self.tick()
            left = mono - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.2, left, max(0.0, self.next_rss - time.monotonic()) + 0.001))

    def wait(self, pred, timeout, interval=0.2):
        """Seconds until pred() is truthy (ticking meanwhile), or None."""
        t0 = time.monotonic()
        while True:
            self.tick()
            try:
                if pred():
                    return time.monotonic() - t0
            except Exception:  # noqa: BLE001 - "not yet"
                pass
            if time.monotonic() - t0 >= timeout:
                return None
            time.sleep(interval)

    # ---- what the others saw ----------------------------------------------

    def observers(self, victim):
        return [a for a in self.c.agents if a.name != victim]

    @staticmethod
    def first_times(agent, offset, victim, down_kinds, up_kinds, up_addr=None, up_after=None):
        """(time, kind) of the first down event about victim in agent's log since
        offset and (time, kind) of the first up event after it, stamped no
        earlier than up_after (None if not yet; no up event while up_after is
        None). With down_kinds empty, only the up event is looked for."""
        down = None if down_kinds else (None, None)
        up = None
        for name, kind, addr, _, at in agent.events(offset):
            if name != victim:
                continue
            if down is None:
                if kind in down_kinds:
                    down = (at, kind)
            elif (up_after is not None and kind in up_kinds and (up_addr is None or addr == up_addr)
                  and at is not None and at >= up_after - 0.05):
                up = (at, kind)
                break
        return down, up

    def seen(self, ev, want_up):
        """Fills ev's per-observer times; True when every observer has the
        down event (and the up event when want_up)."""
        ok = True
        for a in self.observers(ev["victim"]):
            down, up = self.first_times(a, ev["offsets"].get(a.name, 0), ev["victim"],
                                        DOWN_KINDS.get(ev["kind"], ()), ev["up_kinds"],
                                        ev.get("new_addr"), ev.get("t_up"))
            ev["down"][a.name] = down
            ev["up"][a.name] = up
            if down is None or (want_up and up is None):
                ok = False
        return ok

    def converged(self):
        return self.c.converged()[0]

    # ---- churn ----------------------------------------------------------

    def churn(self, kind, i):
        c = self.c
        victim = c.agents[i]
        ev = {"kind": kind, "victim": victim.name, "at": self.now(), "down": {}, "up": {},
              "offsets": {a.name: a.log_offset() for a in c.agents}, "notes": [],
              # until judge() has run (an interrupted run leaves them so)
              "missing": ["(event interrupted)"], "down_all": None, "up_all": None, "converged": None,
              "up_kinds": UP_KINDS if kind != "move" else ("joined", "updated", "alive")}
        self.events.append(ev)
        self.new_window("%s %s at %s" % (kind, victim.name, mmss(ev["at"])), exempt=[victim.name])
        t_action = time.time()
        mono_action = time.monotonic()
        ev["t_action"] = t_action

        self.taken_down.add(victim.name)
        if kind in ("kill", "leave"):
            if kind == "kill":
                victim.kill()
            else:
                code = victim.stop(signal.SIGTERM, timeout=10.0)
                if code != 0:
                    ev["notes"].append("exit code %s after SIGTERM" % code)
                    self.fail("%s: exit code %s after SIGTERM (graceful leave)" % (victim.name, code))
            self.active[victim.name].ended = True
            self.wait(lambda: self.seen(ev, False), self.args.down)
            self.sleep_until(mono_action + self.args.down)
            ev["held"] = time.monotonic() - mono_action
            t_up = time.time()
            victim.start()
            self.register(victim)
        elif kind == "stop":
            victim.freeze()
            took = self.wait(lambda: self.seen(ev, False), DETECT_MAX)
            hold = STOP_MIN if took is None else max(STOP_MIN, took + STOP_EXTRA)
            self.sleep_until(mono_action + hold)
            ev["held"] = time.monotonic() - mono_action
            t_up = time.time()
            victim.thaw()
        elif kind == "move":
            old_addr = victim.gossip
            host = self.next_move_host()
            t_up = t_action
            victim = c.move(i, host)
            self.register(victim)
            ev["new_addr"] = victim.gossip
            ev["notes"].append("%s -> %s" % (old_addr, victim.gossip))
            ev["old_addr"] = old_addr
        ev["t_up"] = t_up
        self.taken_down.discard(victim.name)

        self.wait(lambda: self.seen(ev, True), UP_MAX)
        self.seen(ev, True)  # final reading
        conv = self.wait(self.converged, CONVERGE_MAX)
        ev["converged"] = None if conv is None else time.time() - t_up
        if kind == "move" and conv is not None:
            stale = [obs for obs, (members, ring) in self.c.views().items()
                     if any(m["address"] == ev["old_addr"] for m in members.values())
                     or "%s:%d" % (ev["old_addr"].rsplit(":", 1)[0], netlab.SERVICE_PORT) in ring["nodes"]]
            if stale:
                ev["notes"].append("old address still known by %s" % stale)
                self.fail("%s moved: old address %s still known by %s" % (victim.name, ev["old_addr"], stale))
        self.judge(ev)
        if conv is not None:
            # the churned member is back everywhere: from now on its deaths are false too
            self.new_window("after %s %s" % (kind, ev["victim"]))
        else:
            self.fail("%s %s at %s: no single view within %.0f s after it came back: %s"
                      % (kind, ev["victim"], mmss(ev["at"]), CONVERGE_MAX, self.c.converged()[1]))

    def next_move_host(self):
        used = set(self.c.hosts)
        for _ in range(len(MOVE_HOSTS)):
            host = "%s.%d" % (SUBNET, MOVE_HOSTS[self.move_cursor % len(MOVE_HOSTS)])
            self.move_cursor += 1
            if host not in used:
                return host
        raise RuntimeError("no free address to move to")

    def judge(self, ev):
        obs = self.observers(ev["victim"])
        downs = [ev["down"].get(a.name) for a in obs]
        ups = [ev["up"].get(a.name) for a in obs]
        missing_down = [a.name for a, d in zip(obs, downs) if d is None]
        missing_up = [a.name for a, u in zip(obs, ups) if u is None]
        ev["down_all"] = None
        ev["up_all"] = None
        if ev["kind"] != "move":
            if not missing_down:
                ev["down_all"] = max(d[0] for d in downs) - ev["t_action"]
            ev["down_as"] = {}
            for d in downs:
                if d is not None:
                    ev["down_as"][d[1]] = ev["down_as"].get(d[1], 0) + 1
        if not missing_up and not missing_down:
            ev["up_all"] = max(u[0] for u in ups) - ev["t_up"]
        ev["missing"] = sorted(set(missing_down) | set(missing_up))
        what = {"kill": "dead, then alive", "leave": "left, then alive", "stop": "dead, then alive",
                "move": "at its new address"}[ev["kind"]]
        if ev["missing"]:
            self.fail("%s %s at %s not seen by all (%s): no down event on %s, no up event on %s"
                      % (ev["kind"], ev["victim"], mmss(ev["at"]), what, missing_down or "-", missing_up or "-"))
        log("event %s %s at %s: down on all others %s, back on all %s after the %s, one view %s%s%s"
            % (ev["kind"], ev["victim"], mmss(ev["at"]), fmt_s(ev["down_all"]), fmt_s(ev["up_all"]),
               {"kill": "restart", "leave": "restart", "stop": "SIGCONT", "move": "move"}[ev["kind"]],
               fmt_s(ev["converged"]),
               "" if "held" not in ev else ", down/stopped %.1f s" % ev["held"],
               "" if not ev["notes"] else "; " + "; ".join(ev["notes"])))

    # ---- the run ----------------------------------------------------------

    def metrics(self, agents):
        """{agent: gossip counters} from the JSON metrics document (/metrics.json;
        /metrics before it moved there)."""
        out = {}
        for a in agents:
            for path in ("/metrics.json", "/metrics"):
                try:
                    g = a.http_json(path, 2.0).get("gossip", {})
                except Exception:  # noqa: BLE001 - 404, or /metrics in the text format
                    continue
                out[a.name] = {k: g.get(k, 0) for k in COUNTERS if isinstance(g.get(k, 0), int)}
                break
        return out

    def run(self):
        args, c = self.args, self.c
        n = c.n
        restartable = list(range(max(3, n // 2), n))
        self.long_lived = [c.agents[j].name for j in range(n) if j not in restartable]
        self.t0 = time.monotonic()
        self.wall0 = time.time()
        for a in c.agents:
            self.register(a, initial=True)
        self.new_window("start")
        if args.loss > 0:
            c.set_loss(args.loss)
        self.metrics0 = self.metrics([a for a in c.agents if a.name in self.long_lived])
        end = args.minutes * 60.0
        kinds = args.kinds
        restart_cursor = stop_cursor = 0
        for k in range(int(args.minutes)):
            at = 30.0 + 60.0 * k
            if at > end - 30:
                break
            if self.now() > at + 15:
                self.skipped += 1
                self.fail("event %d (due at %s) skipped: the run is %.0f s behind" % (k + 1, mmss(at), self.now() - at))
                continue
            self.sleep_until(self.t0 + at)
            kind = kinds[k % len(kinds)]
            if kind == "stop":
                i = stop_cursor % n
                stop_cursor += 1
            else:
                i = restartable[restart_cursor % len(restartable)]
                restart_cursor += 1
            log("event %d of %d at %s: %s %s" % (k + 1, int(args.minutes), mmss(self.now()), kind, c.name(i)))
            self.churn(kind, i)
        self.sleep_until(self.t0 + end)
        self.sample_rss()
        self.soak_seconds = self.now()
        self.metrics1 = self.metrics([a for a in c.agents if a.name in self.long_lived])
        self.loss = c.loss_counters()
        bad = [a.name for a in c.agents if not a.alive() or a.frozen]
        if bad:
            self.fail("agents not running at the end: %s" % bad)
        conv = self.wait(self.converged, CONVERGE_MAX)
        self.final_converged = conv
        if conv is None:
            self.fail("cluster not converged at the end: %s" % c.converged()[1])
        self.sample_rss()
        self.completed = True

    # ---- results ----------------------------------------------------------

    def false_deaths(self):
        """(count, evidence lines, deaths whose observer was the churned member)."""
        if self.watch is not None:
            self.close_window(self.watch)
            self.watch = None
        return (sum(w.count for w in self.windows), [line for w in self.windows for line in w.lines],
                sum(w.by_victim for w in self.windows))

    def rss_table(self, warmup):
        """Processes that ran the whole soak (the first process of an agent
        never restarted) -> rows; the others measured when they lived long
        enough after their own warm-up, else counted as left out."""
        min_span = self.args.minutes * 60.0 / 3
        rows, partial, left_out = [], [], 0
        for life in self.lives:
            base = next(((t, kb) for t, kb in life.samples if t >= life.start + warmup - 0.5), None)
            last = life.samples[-1] if life.samples else None
            whole = life.initial and not life.ended
            if base is None or last is None or (not whole and last[0] - base[0] < min_span):
                if whole and self.completed:
                    self.fail("%s: no RSS sample after the warm-up" % life.name)
                else:
                    left_out += 1
                continue
            growth = 100.0 * (last[1] - base[1]) / base[1]
            peak = max(kb for t, kb in life.samples if t >= base[0])
            (rows if whole else partial).append((life, base, last, growth, peak))
        return rows, partial, left_out, min_span

    def report(self, command, total_wall):
        a = self.args
        out = []
        p = out.append
        warmup = self.warmup
        p("## Soak: %d agents, %g%% packet loss, a churn event every minute for %g min (`%s`)"
          % (a.agents, a.loss * 100, a.minutes, command))
        p("")
        arrived, dropped = self.loss
        p("%d ringd agents, each in its own network namespace on one bridge (tests/net/netlab.py)%s; "
          "every packet arriving at every agent, UDP and TCP, dropped with probability %g%% for the "
          "whole run (iptables: %d of %d dropped = %.2f%%). One churn event a minute, at 0:30, 1:30, ..., "
          "the kinds in turn: %s. kill/leave/move hit %s in turn, stop hits every agent in turn; "
          "%s are never restarted. Polls: /members on every agent every %.0f s, VmRSS every %.0f s.%s"
          % (a.agents, "" if not a.extra_args else ", extra flags `%s`" % a.extra_args, a.loss * 100,
             dropped, arrived, 100.0 * dropped / max(arrived, 1), ", ".join(self.kind_text(k) for k in a.kinds),
             ", ".join(self.c.name(j) for j in range(max(3, self.c.n // 2), self.c.n)),
             ", ".join(self.long_lived), POLL_EVERY, RSS_EVERY,
             "" if not self.loadavg else " Load average (1 min) of the machine during the run: mean %.2f, "
             "max %.2f (%d cores)." % (statistics.mean(self.loadavg), max(self.loadavg), os.cpu_count() or 0)))
        p("")
        p("### Churn: time until every other agent saw it (agents' log stamps)")
        p("")
        p("| kind | events | down on all others after the signal, worst (median) | back on all others "
          "after the restart/SIGCONT/move, worst (median) | one view + one ring checksum on all, worst | "
          "down or stopped for | not seen by all |")
        p("|---|---:|---|---|---|---|---:|")
        per_kind_worst = {}
        for kind in a.kinds:
            evs = [e for e in self.events if e["kind"] == kind]
            if not evs:
                continue

            def col(key):
                xs = [e[key] for e in evs if e.get(key) is not None]
                miss = sum(1 for e in evs if e.get(key) is None)
                if not xs:
                    return "—", None
                s = "%s (%s)" % (fmt_s(max(xs)), fmt_s(statistics.median(xs)))
                if miss:
                    s += ", %d never" % miss
                return s, max(xs)
            down_s, down_w = col("down_all") if kind != "move" else ("— (no down state)", None)
            up_s, up_w = col("up_all")
            conv_s, conv_w = col("converged")
            helds = [e["held"] for e in evs if "held" in e]
            held = "%.1f–%.1f s" % (min(helds), max(helds)) if helds else "0 s (started at once)"
            if kind == "leave":
                left = sum(e.get("down_as", {}).get("left", 0) for e in evs)
                dead = sum(e.get("down_as", {}).get("dead", 0) for e in evs)
                down_s += "; seen as left %d, as dead %d" % (left, dead)
            p("| %s | %d | %s | %s | %s | %s | %d |" % (self.kind_text(kind), len(evs), down_s, up_s, conv_s,
                                                     held, sum(1 for e in evs if e["missing"])))
            per_kind_worst[kind] = (down_w, up_w, conv_w)
        self.per_kind_worst = per_kind_worst
        p("")
        unseen = [e for e in self.events if e["missing"]]
        for e in unseen:
            p("- not seen by all: %s %s at %s: %s" % (e["kind"], e["victim"], mmss(e["at"]), ", ".join(
                "%s: down %s, up %s" % (o, e["down"].get(o), e["up"].get(o)) for o in e["missing"])))
        if unseen:
            p("")

        deaths, lines, by_victim = self.deaths_info
        self.deaths = deaths
        polls = sum(w.polls for w in self.windows)
        suspects = sum(w.suspect_events for w in self.windows)
        refuted = sum(w.alive_events for w in self.windows)
        p("### False deaths")
        p("")
        p("%d (dead/left verdicts about members other than the churned one, from every agent's log and "
          "from %d polls of /members on every agent; the churned member is exempt from its event until the "
          "cluster shows one view again). Suspicions of other members logged: %d (alive again: %d)."
          % (deaths, polls, suspects, refuted))
        if by_victim:
            p("Of the false deaths, %d were verdicts of the churned agent itself (e.g. just after SIGCONT)."
              % by_victim)
        if lines:
            p("")
            for line in lines[:40]:
                p("- " + line)
            if len(lines) > 40:
                p("- ... %d more" % (len(lines) - 40))
        p("")
        if self.metrics0 and self.metrics1:
            diff = {k: sum(self.metrics1.get(n, {}).get(k, 0) - self.metrics0.get(n, {}).get(k, 0)
                           for n in self.metrics1 if n in self.metrics0) for k in COUNTERS}
            p("Gossip counters (/metrics.json) over the run, summed over the never-restarted agents %s: %s."
              % (", ".join(sorted(self.metrics1)), ", ".join("%s +%d" % (k, v) for k, v in diff.items())))
            p("")

        rows, restarted, excluded, min_span = self.rss_table(warmup)
        growths = [g for _, _, _, g, _ in rows]
        p("### RSS (VmRSS)")
        p("")
        p("Each process that ran the whole soak: its sample at %s (the end of a %s warm-up after the "
          "cluster had converged and the loss was switched on) against its last sample at %s."
          % (mmss(warmup), mmss(warmup), mmss(self.soak_seconds)))
        p("")
        p("| agent | RSS at %s | RSS at the end | growth | peak after the warm-up |" % mmss(warmup))
        p("|---|---:|---:|---:|---:|")
        for life, base, last, growth, peak in rows:
            p("| %s | %.1f MB | %.1f MB | %+.1f%% | %.1f MB |" % (life.name, base[1] / 1024, last[1] / 1024,
                                                               growth, peak / 1024))
        p("")
        partial_lives = [life for life in self.lives if not life.initial or life.ended]
        p("Processes that did not run the whole soak (%d: the first processes of agents churned by kill, "
          "leave or move, and their restarts): measured from their own start + %s when they then ran at "
          "least %s more — %s; the other %d are left out (too short-lived)."
          % (len(partial_lives), mmss(warmup), mmss(min_span),
             "none did" if not restarted else "%d did, growth %s" % (len(restarted), ", ".join(
                 "%s %+.1f%%" % (life.name, g) for life, _, _, g, _ in restarted)),
             excluded))
        all_growths = growths + [g for _, _, _, g, _ in restarted]
        self.rss_growth = (max(growths) if growths else None, max(all_growths) if all_growths else None)
        p("")

        # targets
        rss_ok = bool(growths) and max(all_growths) <= RSS_LIMIT
        if not growths:
            self.fail("RSS not measured (no process ran from the warm-up to the end)")
        elif not rss_ok:
            self.fail("RSS grew more than %.0f%%: %s" % (RSS_LIMIT, ["%s %+.1f%%" % (life.name, g)
                                                                    for life, _, _, g, _ in rows + restarted
                                                                    if g > RSS_LIMIT]))
        if deaths:
            self.fail("%d false deaths" % deaths)
        loss_ok = arrived > 0 and abs(dropped / arrived - a.loss) < max(0.01, a.loss * 0.2)
        if a.loss > 0 and not loss_ok:
            self.fail("iptables dropped %d of %d, not about %g%%" % (dropped, arrived, a.loss * 100))
        wall_ok = total_wall <= a.minutes * 60 + SLACK
        if not wall_ok:
            self.fail("wall time %.0f s > %.0f s" % (total_wall, a.minutes * 60 + SLACK))
        seen_ok = not unseen and self.skipped == 0 and all(e["converged"] is not None for e in self.events)
        p("Targets: 0 false deaths: %s; every churn event seen by all: %s; RSS flat within %.0f%%: %s "
          "(max growth %s); cluster converged and all %d processes running at the end: %s; wall time "
          "%s ≤ run + %s: %s."
          % ("met" if not deaths else "**missed** (%d)" % deaths,
             "met" if seen_ok else "**missed**", RSS_LIMIT, "met" if rss_ok else "**missed**",
             "%+.1f%%" % max(all_growths) if all_growths else "—", a.agents,
             "met" if self.final_converged is not None and not any(
                 "not running" in f for f in self.failures) else "**missed**",
             mmss(total_wall), mmss(SLACK), "met" if wall_ok else "**missed**"))
        p("")
        return out

    def kind_text(self, kind):
        return {"kill": "kill (SIGKILL, restart %.0f s later)" % self.args.down,
                "leave": "leave (SIGTERM, restart %.0f s later)" % self.args.down,
                "stop": "stop (SIGSTOP until dead on all others + %.0f s, at least %.0f s, then SIGCONT)"
                        % (STOP_EXTRA, STOP_MIN),
                "move": "move (SIGKILL, start at once on a new address)"}[kind]

    def settle_partial(self):
        """After an aborted run: what can still be read, for the report."""
        if self.loss is None:
            try:
                self.loss = self.c.loss_counters()
            except Exception:  # noqa: BLE001
                self.loss = (0, 0)
        if self.soak_seconds is None:
            self.soak_seconds = self.now()


def summary_line(soak, ok, total_wall):
    worst = "; ".join("%s down %s / back %s" % (k, fmt_s(v[0]) if k != "move" else "n/a", fmt_s(v[1]))
                      for k, v in getattr(soak, "per_kind_worst", {}).items())
    arrived, dropped = getattr(soak, "loss", (0, 0))
    growth = getattr(soak, "rss_growth", (None, None))
    return ("soak: %s — %d agents, %g%% loss, %d churn events in %s (wall %s): false deaths %s, RSS growth "
            "max %s (processes that ran the whole soak; %s with the restarted ones measured), worst time "
            "until all saw it: %s; dropped %d of %d packets%s"
            % ("PASS" if ok else "FAIL", soak.args.agents, soak.args.loss * 100, len(soak.events),
               mmss(getattr(soak, "soak_seconds", 0)), mmss(total_wall), getattr(soak, "deaths", "?"),
               "—" if growth[0] is None else "%+.1f%%" % growth[0],
               "—" if growth[1] is None else "%+.1f%%" % growth[1],
               worst or "—", dropped, arrived, "" if ok else "; failures: " + "; ".join(soak.failures)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30, help="length of the soak (default 30)")
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--loss", type=float, default=0.05, help="drop probability per arriving packet")
    ap.add_argument("--extra-args", default="",
                    help='more ringd flags for every agent, one string: --extra-args="--flag value"')
    ap.add_argument("--kinds", default=",".join(KINDS), help="churn kinds in turn: " + ",".join(KINDS))
    ap.add_argument("--down", type=float, default=20.0, help="seconds a killed/left agent stays down")
    ap.add_argument("--warmup", type=float, default=None,
                    help="minutes before the RSS baseline (default: 3, at most a third of the run)")
    ap.add_argument("--out", help="also write the Markdown section here")
    args = ap.parse_args()
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if any(k not in KINDS for k in args.kinds) or not args.kinds:
        ap.error("--kinds: a comma-separated subset of " + ",".join(KINDS))
    if args.agents < 5:
        ap.error("--agents: at least 5")
    if args.minutes < 1:
        ap.error("--minutes: at least 1")
    command = "/usr/bin/python3 bench/soak_bench.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    command = command.strip()
    if os.geteuid() != 0:
        log("needs root (network namespaces, iptables)")
        return 2

    def on_signal(signo, _frame):
        raise KeyboardInterrupt("signal %d" % signo)
    signal.signal(signal.SIGTERM, on_signal)

    started = time.monotonic()
    lab = soak = None
    md = []
    crashed = None
    try:
        lab = Lab()
        c = lab.cluster("s", args.agents, first_host=FIRST_HOST, extra_args=shlex.split(args.extra_args))
        for agent in c.agents:  # nothing of ours may talk outside the /24
            if not all(address_in_subnet(x) for x in [agent.gossip] + agent.join):
                raise RuntimeError("%s: address outside %s.0/24: %s" % (agent.name, SUBNET, agent.argv))
        c.start()
        took = c.wait_converged(CONVERGE_MAX)
        log("%d agents in %s-*, converged %.1f s after the start; soak of %g min, loss %g%%, kinds %s"
            % (args.agents, lab.tag, took, args.minutes, args.loss * 100, ",".join(args.kinds)))
        soak = Soak(args, lab, c, started)
        soak.warmup = 60.0 * (args.warmup if args.warmup is not None else min(3.0, args.minutes / 3))
        soak.run()
        soak.settle_partial()
    except Exception as exc:  # noqa: BLE001 - report, then clean up
        traceback.print_exc()
        crashed = "harness: %r" % (exc,)
    except KeyboardInterrupt as exc:
        crashed = "interrupted: %s" % exc
    finally:
        if soak is not None and soak.t0 is not None:
            try:  # what needs the agents and their logs, before they go
                soak.settle_partial()
                soak.deaths_info = soak.false_deaths()
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc()
                crashed = crashed or "after the run: %r" % (exc,)
        if lab is not None and (crashed or (soak is not None and (soak.failures or soak.deaths_info[0]))
                                or os.environ.get("KEEP_RUNDIR") == "1"):
            os.environ.setdefault("KEEP_RUNDIR", "1")
            log("logs kept in %s" % lab.rundir.path)
        errors = lab.cleanup() if lab is not None else []
    total_wall = time.monotonic() - started
    if soak is not None:
        if crashed:
            soak.fail(crashed)
        if errors:
            soak.fail("cleanup: %s" % errors)
        if soak.t0 is not None:
            try:
                md = soak.report(command, total_wall)
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc()
                soak.fail("report: %r" % (exc,))
                md = []
        failures = soak.failures
    else:
        failures = [f for f in (crashed, errors and "cleanup: %s" % errors) if f]
    ok = not failures
    if soak is None:
        line = "soak: FAIL — %s" % "; ".join(failures)
    else:
        line = summary_line(soak, ok, total_wall)
    if not md:
        md = ["## Soak (`%s`)" % command, "", "The run did not complete: %s" % "; ".join(failures), ""]
    md.append("**%s**" % line)
    text = "\n".join(md) + "\n"
    sys.stdout.write(text)
    sys.stdout.flush()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    log(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
