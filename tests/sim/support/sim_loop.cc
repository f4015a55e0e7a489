// tests/sim/support/sim_loop.cc — see sim_loop.h.
#include "support/sim_loop.h"

#include <algorithm>
#include <utility>

namespace ringd::sim {

void EventLoop::schedule(Time at, std::function<void()> fn) {
  queue_.push(Item{std::max(at, now_), seq_++, std::move(fn)});
}

void EventLoop::run_one() {
  // top() is const, but moving the callback out leaves `at` and `seq` (all
  // the heap order looks at) untouched, so pop() still works.
  Item item = std::move(const_cast<Item&>(queue_.top()));
  queue_.pop();
  now_ = item.at;
  item.fn();
}

}  // namespace ringd::sim
