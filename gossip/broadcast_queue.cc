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

BroadcastQueue::Key BroadcastQueue::key_of(const Entry& e) {
  return Key{e.transmits, !std::holds_alternative<msg::Alive>(e.message), ~e.id};
}

void BroadcastQueue::push(const std::string& name, msg::Message message, std::size_t size) {
  auto it = entries_.find(name);
  if (it == entries_.end() && entries_.size() >= max_entries_) {
    // Evict the most-sent entry, the oldest among equals: the most-sent sit
    // at the end of the order.
    auto victim = std::prev(order_.end());
    for (auto o = victim; o->first.transmits == victim->first.transmits; --o) {
      if (o->second->second.id < victim->second->second.id) victim = o;
      if (o == order_.begin()) break;
    }
    entries_.erase(victim->second);
    order_.erase(victim);
    ++dropped_;
  }
  if (it == entries_.end()) {
    it = entries_.emplace(name, Entry{}).first;
  } else {
    order_.erase(key_of(it->second));
  }
  Entry& e = it->second;
  e.message = std::move(message);
  e.size = size;
  e.transmits = 0;
  e.id = next_id_++;
  order_.emplace(key_of(e), it);
}

std::vector<msg::Message> BroadcastQueue::take(std::size_t budget, int limit,
                                               std::size_t max_count) {
  std::vector<Map::iterator> picked;
  std::size_t used = 0;
  std::size_t scanned = 0;
  for (auto o = order_.begin(); o != order_.end() && picked.size() < max_count; ++o) {
    const Entry& e = o->second->second;
    if (e.size > budget - used) {
      if (!picked.empty() && ++scanned > kMaxScan) break;
      continue;
    }
    used += e.size;
    picked.push_back(o->second);
    if (budget - used == 0) break;
  }
  std::vector<msg::Message> out;
  out.reserve(picked.size());
  for (auto it : picked) {
    Entry& e = it->second;
    order_.erase(key_of(e));
    out.push_back(e.message);
    if (++e.transmits >= limit) {
      entries_.erase(it);
    } else {
      order_.emplace(key_of(e), it);
    }
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
