// gossip/broadcast_queue.cc — see broadcast_queue.h.
#include "broadcast_queue.h"

#include <algorithm>
#include <cmath>

namespace ringd::gossip {

BroadcastQueue::BroadcastQueue(std::size_t max_entries)
    : max_entries_(std::max<std::size_t>(max_entries, 1)) {}

int BroadcastQueue::retransmit_limit(int retransmit_mult, std::size_t n) {
  const double scale = std::ceil(std::log10(static_cast<double>(n) + 1.0));
  const int limit = std::max(retransmit_mult, 1) * static_cast<int>(scale);
  return std::max(limit, 1);
}

void BroadcastQueue::push(const std::string& name, msg::Message message, std::size_t size) {
  auto it = entries_.find(name);
  if (it == entries_.end() && entries_.size() >= max_entries_) {
    // Evict the most-sent entry, the oldest among equals.
    auto victim = entries_.begin();
    for (auto e = entries_.begin(); e != entries_.end(); ++e) {
      if (e->second.transmits > victim->second.transmits ||
          (e->second.transmits == victim->second.transmits && e->second.id < victim->second.id)) {
        victim = e;
      }
    }
    entries_.erase(victim);
    ++dropped_;
  }
  Entry& e = entries_[name];
  e.message = std::move(message);
  e.size = size;
  e.transmits = 0;
  e.id = next_id_++;
}

std::vector<msg::Message> BroadcastQueue::take(std::size_t budget, int limit,
                                               std::size_t max_count) {
  std::vector<std::map<std::string, Entry, std::less<>>::iterator> order;
  order.reserve(entries_.size());
  for (auto it = entries_.begin(); it != entries_.end(); ++it) order.push_back(it);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    if (a->second.transmits != b->second.transmits) {
      return a->second.transmits < b->second.transmits;
    }
    const bool a_alive = std::holds_alternative<msg::Alive>(a->second.message);
    const bool b_alive = std::holds_alternative<msg::Alive>(b->second.message);
    if (a_alive != b_alive) return a_alive;
    return a->second.id > b->second.id;
  });
  std::vector<msg::Message> out;
  std::size_t used = 0;
  for (auto it : order) {
    if (out.size() >= max_count) break;
    if (it->second.size > budget - used) continue;
    used += it->second.size;
    out.push_back(it->second.message);
    if (++it->second.transmits >= limit) entries_.erase(it);
    if (budget - used == 0) break;
  }
  std::stable_partition(out.begin(), out.end(), [](const msg::Message& m) {
    return std::holds_alternative<msg::Alive>(m);
  });
  return out;
}

bool BroadcastQueue::contains(std::string_view name) const {
  return entries_.find(name) != entries_.end();
}

}  // namespace ringd::gossip
