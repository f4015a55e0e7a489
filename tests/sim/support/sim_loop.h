// tests/sim/support/sim_loop.h — the virtual clock: callbacks run in
// (time, sequence) order, so two events at the same instant run in the order
// they were scheduled. Nothing here reads a real clock or sleeps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "gossip/node.h"

namespace ringd::sim {

using gossip::Duration;
using gossip::Time;
inline Duration ms(std::int64_t n) { return std::chrono::milliseconds(n); }
inline Duration sec(std::int64_t n) { return std::chrono::seconds(n); }

class EventLoop {
 public:
  Time now() const { return now_; }
  void set_now(Time t) { now_ = t; }
  // Runs fn at `at` (or now, if `at` is in the past).
  void schedule(Time at, std::function<void()> fn);
  bool empty() const { return queue_.empty(); }
  std::size_t pending() const { return queue_.size(); }
  Time next_time() const { return queue_.empty() ? Time::max() : queue_.top().at; }
  // Pops the earliest event, advances the clock to it and runs it.
  void run_one();

 private:
  struct Item {
    Time at;
    std::uint64_t seq;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Item& a, const Item& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  Time now_{};
  std::uint64_t seq_ = 0;
  std::priority_queue<Item, std::vector<Item>, Later> queue_;
};

}  // namespace ringd::sim
