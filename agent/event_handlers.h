// agent/event_handlers.h — serf-style event handlers: scripts the agent runs
// when members join, leave, fail or change (--event-handler).
//
//   --event-handler member-join,member-failed=/etc/ringd/notify.sh
//   --event-handler /usr/local/bin/log-everything
//
// Events, as serf names them: member-join (a member is new, or back from
// dead or left), member-leave (left gracefully), member-failed (declared
// dead), member-update (its address, service or tags changed). Suspicions
// are not events (they mostly end in a refutation). Our own membership is
// not reported.
//
// Each handler runs as `/bin/sh -c SCRIPT`, in its own process group, with
// the environment of the agent plus RINGD_EVENT and SERF_EVENT (the event
// name; serf handler scripts run unchanged), RINGD_SELF_NAME/SERF_SELF_NAME,
// SERF_SELF_ROLE (our --service) and RINGD_TAG_<KEY>/SERF_TAG_<KEY> (our
// tags, keys upper-cased, other characters as _). On stdin, one line per
// member of the event, serf's layout:
//
//   name TAB address TAB service ("role") TAB tags as k=v,k=v NEWLINE
//
// Events of one kind that arrive together go to one invocation. Handlers
// run one at a time, in order, never on the agent's thread: at most
// kMaxQueued invocations wait (more are dropped, counted and logged); one
// that runs past its timeout is killed (SIGKILL to its group). Its output is
// logged at info (at most kMaxOutput bytes), a non-zero exit at warn.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/asio.h"
#include "gossip/node.h"

namespace ringd::agent {

struct EventHandlerSpec {
  std::set<std::string> events;  // empty: every event
  std::string script;
};

// "member-join,member-failed=SCRIPT" or "SCRIPT"; nullopt with *why set
// when a filter names no event or the script is empty.
std::optional<EventHandlerSpec> parse_event_handler(const std::string& text, std::string* why);

// The serf event name for a membership event, or "" when it is none.
std::string serf_event_name(gossip::Event::Kind kind);

// One line of a handler's stdin for a member.
std::string member_line(const gossip::Member& m);

// The handler environment's additions for our own member.
std::vector<std::string> handler_environment(const std::string& event, const gossip::Member& self);

class EventHandlers {
 public:
  static constexpr std::size_t kMaxQueued = 1024;
  static constexpr std::size_t kMaxOutput = 64 * 1024;

  EventHandlers(asio::io_context& io, std::vector<EventHandlerSpec> specs, std::chrono::milliseconds timeout);
  ~EventHandlers();

  // Queues the invocations these events call for (self's own events are
  // skipped); `self` is our member now.
  void on_events(const std::vector<gossip::Event>& events, const gossip::Member& self);

  // runs, failures (non-zero exit or a spawn error), timeouts, dropped.
  std::vector<std::pair<std::string, std::uint64_t>> counters() const;

 private:
  struct Invocation {
    std::string script;
    std::string event;
    std::string input;
    std::vector<std::string> env;
  };
  void start_next();
  void finish(int status, bool timed_out);

  asio::io_context& io_;
  std::vector<EventHandlerSpec> specs_;
  std::chrono::milliseconds timeout_;
  std::deque<Invocation> queue_;
  struct Running;
  std::shared_ptr<Running> running_;  // the invocation under way, if any
  std::uint64_t runs_ = 0, failures_ = 0, timeouts_ = 0, dropped_ = 0;
};

}  // namespace ringd::agent
