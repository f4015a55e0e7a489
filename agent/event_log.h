// agent/event_log.h — the last membership and ring events, numbered, for
// `ringd monitor` (GET /events?since=N). Bounded: the oldest events go once
// kCapacity are kept; a reader that fell behind is told how many it missed.
// Not thread-safe: the agent's io thread writes and serves it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

#include <nlohmann/json.hpp>

namespace ringd::agent {

class EventLog {
 public:
  static constexpr std::size_t kCapacity = 1024;

  // Appends one event (an object); it gets "seq" and "time" (UTC, ms).
  void add(nlohmann::json event) {
    const auto now = std::chrono::system_clock::now();
    event["seq"] = ++last_;
    event["time_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    events_.push_back(std::move(event));
    if (events_.size() > kCapacity) events_.pop_front();
  }

  // {"events": [...with seq > since], "next": <seq to ask from next>,
  //  "missed": <events after `since` no longer kept>}.
  nlohmann::json since(std::uint64_t since, std::size_t max = 256) const {
    nlohmann::json out = {{"events", nlohmann::json::array()}, {"next", since}, {"missed", 0}};
    const std::uint64_t oldest = last_ - events_.size() + 1;  // seq of events_.front()
    if (since > last_) since = last_;                          // a reader from a previous agent run
    if (since + 1 < oldest) out["missed"] = oldest - since - 1;
    std::uint64_t next = since;
    for (const auto& e : events_) {
      const std::uint64_t seq = e["seq"].get<std::uint64_t>();
      if (seq <= since) continue;
      if (out["events"].size() >= max) break;
      out["events"].push_back(e);
      next = seq;
    }
    out["next"] = next;
    return out;
  }

  std::uint64_t last() const { return last_; }

 private:
  std::deque<nlohmann::json> events_;
  std::uint64_t last_ = 0;  // seq of the newest event, 0 before any
};

}  // namespace ringd::agent
