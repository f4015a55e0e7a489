// agent/busy_poll.h — when a RESP loop polls for a few microseconds before
// it sleeps, and for how long (pure: the loop does the polling and the
// timing and tells this what happened).
//
// Why. A client that sends to a server asleep in epoll_wait pays for waking
// it: on a virtual machine whose idle vCPU halts, that is an inter-processor
// interrupt, microseconds of the client's CPU; the server pays a context
// switch per sleep as well. A loop that polls briefly (epoll_wait with
// timeout 0) after a busy wake-up is awake when the next request comes, and
// a client waiting for each reply then gets more requests per second for a
// little more of ringd's CPU per request.
//
// When. Only where a wake-up costs much per request: when the last wake-up
// ran about one command per read (clients that wait for each reply, as
// nginx's lookups do). Pipelined clients bring many commands per read, so
// their wake-ups are already amortised and polling for them only costs CPU.
// And only while it pays: a running score of polls that found work (each
// poll moves it an eighth of the way towards 256 on a hit, or towards 0 on
// a miss) must stay at 128 or above, i.e. about half of recent polls found
// work; below that the loop polls only at every 16th eligible wake-up, to
// notice when the traffic changes. A single client (-c 1) makes nearly
// every poll miss, so it costs one poll in 16 sleeps.
//
// How long. At most the configured budget, and at most three quarters of
// the time serving one request takes: the loop times its unpipelined
// wake-ups and keeps a running mean of their time per command (each
// wake-up moves it a sixteenth of the way). A poll then costs less than the
// request it waits for. Longer budgets skip more sleeps, but past a few
// microseconds a poll costs more of ringd's CPU than the sleeps it skips
// save it; the default (RespServerOptions::busy_poll_us) is 5 us.
//
// Tried and dropped: sleeping briefly on a timer instead (it costs more CPU
// on a virtual machine than the wake-up it replaces), and telling the polls
// that will miss from those that will hit by the gap before them (too weak
// a sign to skip a poll on).
//
// The measurements behind these choices (profiles, budgets tried, the cost
// of a sleep on this machine) are in bench/RESULTS.md, "RESP busy-poll
// budget".
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace ringd::agent {

class BusyPollPolicy {
 public:
  // max_budget 0: never poll.
  explicit BusyPollPolicy(std::chrono::microseconds max_budget)
      : max_budget_(max_budget), per_command_(2 * std::chrono::nanoseconds(max_budget)) {}  // starts at the maximum

  // Whether this ever polls (a budget above 0); the loop times its
  // wake-ups only then.
  bool enabled() const { return max_budget_.count() > 0; }

  // How long the next poll may last: the configured budget, or 3/4 of the
  // time one request takes when that is shorter.
  std::chrono::nanoseconds budget() const {
    return std::min<std::chrono::nanoseconds>(max_budget_, per_command_ * 3 / 4);
  }

  // After a wake-up that read `reads` connections and ran `commands`
  // commands: whether to poll (for up to budget()) before the next sleep.
  bool want_poll(std::uint64_t reads, std::uint64_t commands) {
    if (!unpipelined(reads, commands)) return false;
    if (score_ >= kThreshold) return true;
    return ++skipped_ % kProbeEvery == 0;
  }

  // The outcome of a poll: whether it found anything before the budget ran out.
  void record(bool found) { score_ = score_ - score_ / 8 + (found ? kMaxScore / 8 : 0); }

  // A wake-up's work, from epoll_wait's return to the last reply handed to
  // the kernel. Only unpipelined wake-ups count: they are the ones polled for.
  void record_work(std::chrono::nanoseconds busy, std::uint64_t reads, std::uint64_t commands) {
    if (commands == 0 || !unpipelined(reads, commands)) return;
    const std::chrono::nanoseconds each = busy / static_cast<std::int64_t>(commands);
    per_command_ += (each - per_command_) / 16;
  }

  unsigned score() const { return score_; }

 private:
  static constexpr unsigned kMaxScore = 256;
  static constexpr unsigned kThreshold = 128;
  static constexpr unsigned kProbeEvery = 16;

  bool unpipelined(std::uint64_t reads, std::uint64_t commands) const {
    return enabled() && reads > 0 && commands <= reads + reads / 4;
  }

  std::chrono::nanoseconds max_budget_;
  std::chrono::nanoseconds per_command_;  // running mean of an unpipelined wake-up's time per command
  unsigned score_ = kMaxScore;
  unsigned skipped_ = 0;
};

}  // namespace ringd::agent
