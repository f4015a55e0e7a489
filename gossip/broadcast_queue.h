// gossip/broadcast_queue.h — membership updates waiting to be piggybacked.
//
// Every accepted membership change (alive/suspect/dead about some member) is
// pushed here and then rides along on outgoing pings, acks and gossip-timer
// datagrams. Contract:
//   * at most one update per member: a newer update about the same member
//     replaces the older one (it supersedes it, and keeps the queue O(n));
//   * each update is sent `limit` times, limit = retransmit_limit(mult, n)
//     = mult * ceil(log10(n + 1)), then dropped (infection-style spread needs
//     O(log n) retransmissions per member);
//   * updates sent fewer times go first; among equals Alive goes first (news
//     of life clears false suspicions, so it must not wait behind them),
//     then newer first, so fresh news overtakes old news; the picked updates
//     are returned Alive first as well (a compound packet leads with them);
//   * the queue holds at most `max_entries`; when full, the update that has
//     already been sent the most is dropped (and counted).
// Best effort: nothing here knows whether a datagram arrived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages.h"

namespace ringd::gossip {

class BroadcastQueue {
 public:
  explicit BroadcastQueue(std::size_t max_entries = 4096);

  static int retransmit_limit(int retransmit_mult, std::size_t n);

  // Queues `message` (about member `name`, `size` encoded bytes, see
  // codec::encoded_size), replacing any queued update about `name`.
  void push(const std::string& name, msg::Message message, std::size_t size);

  // Picks at most `max_count` updates whose sizes sum to at most `budget`
  // bytes, counts one transmission for each, and drops those that reached
  // `limit`.
  std::vector<msg::Message> take(std::size_t budget, int limit,
                                 std::size_t max_count = static_cast<std::size_t>(-1));

  bool contains(std::string_view name) const;
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() {
    entries_.clear();
    order_.clear();
  }
  // Updates dropped because the queue was full.
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Entry {
    msg::Message message;
    std::size_t size = 0;
    int transmits = 0;
    std::uint64_t id = 0;  // insertion order, larger = newer
  };
  using Map = std::map<std::string, Entry, std::less<>>;
  // The sending order: fewer transmits first, then Alive first, then newer
  // first (~id). Unique because ids are.
  struct Key {
    int transmits;
    bool not_alive;
    std::uint64_t inverse_id;
    auto operator<=>(const Key&) const = default;
  };
  static Key key_of(const Entry& e);
  // Entries a take() looks at beyond the first that fits, at most: with
  // thousands queued (a large cluster joining) a packet fills long before.
  static constexpr std::size_t kMaxScan = 512;
  std::size_t max_entries_;
  std::uint64_t next_id_ = 0;
  std::uint64_t dropped_ = 0;
  Map entries_;
  std::map<Key, Map::iterator> order_;  // every entry, in sending order
};

}  // namespace ringd::gossip
