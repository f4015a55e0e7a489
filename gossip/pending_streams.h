// gossip/pending_streams.h — the stream requests a node has sent and not yet
// seen answered or failed: joins, state syncs and TCP fallback pings. One
// place answers "is a stream pending to X" (three questions, one per use),
// numbers the streams, and bounds how many are open at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ringd::gossip {

struct PendingStream {
  bool join = false;
  std::string to;
  std::uint64_t probe_seq = 0;  // non-zero: a TCP fallback ping for that probe
};

class PendingStreams {
 public:
  static constexpr std::size_t kMax = 64;

  // Registers a stream about to be sent; its id, or 0 when kMax are open.
  std::uint64_t open(PendingStream ps) {
    if (open_.size() >= kMax) return 0;
    const std::uint64_t id = next_id_++;
    open_.emplace(id, std::move(ps));
    return id;
  }
  // The stream `id` was answered or failed: what it was, if it was ours.
  std::optional<PendingStream> take(std::uint64_t id) {
    auto it = open_.find(id);
    if (it == open_.end()) return std::nullopt;
    PendingStream ps = std::move(it->second);
    open_.erase(it);
    return ps;
  }
  // No longer waited for (a probe's TCP ping when the probe ends).
  void forget(std::uint64_t id) { open_.erase(id); }

  // A join to `address` is open.
  bool join_to(std::string_view address) const {
    return any([&](const PendingStream& ps) { return ps.join && ps.to == address; });
  }
  // A join or state sync (not a TCP ping) to `address` is open.
  bool sync_to(std::string_view address) const {
    return any([&](const PendingStream& ps) { return ps.probe_seq == 0 && ps.to == address; });
  }
  // Any stream to `address` is open.
  bool any_to(std::string_view address) const {
    return any([&](const PendingStream& ps) { return ps.to == address; });
  }
  std::size_t size() const { return open_.size(); }

 private:
  template <class F>
  bool any(F f) const {
    for (const auto& [id, ps] : open_) {
      if (f(ps)) return true;
    }
    return false;
  }
  std::map<std::uint64_t, PendingStream> open_;
  std::uint64_t next_id_ = 1;
};

}  // namespace ringd::gossip
