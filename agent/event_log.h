// agent/event_log.h — the last membership and ring events, numbered, for
// `ringd monitor` (GET /events?since=N). Bounded: the oldest events go once
// kCapacity are kept; a reader that fell behind is told how many it missed.
// Not thread-safe: the agent's io thread writes and serves it. Events are
// kept as their JSON text (~200 bytes each) rather than as json objects
// (~1 KB each: a map node and a string per key), since they are written
// often and read rarely; a full log is ~0.2 MB of an idle agent's RSS
// instead of ~1 MB.
#pragma once

#include <chrono>
#include <cstdint>
#include <algorithm>
#include <deque>
#include <string>

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
    events_.push_back(event.dump());
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
    // events_[k] has seq oldest + k.
    for (std::uint64_t seq = std::max(since + 1, oldest); seq <= last_; ++seq) {
      if (out["events"].size() >= max) break;
      out["events"].push_back(nlohmann::json::parse(events_[seq - oldest]));
      next = seq;
    }
    out["next"] = next;
    return out;
  }

  std::uint64_t last() const { return last_; }

 private:
  std::deque<std::string> events_;  // each a JSON object's text
  std::uint64_t last_ = 0;  // seq of the newest event, 0 before any
};

}  // namespace ringd::agent
