// agent/replay_window.h — anti-replay for sealed gossip (agent/gossip_crypto.h).
//
// Every sealed message carries its sender's boot id (random per process
// start) and a sequence number that grows by one per message the sender
// seals. The receiver keeps, per boot id, the highest sequence it accepted
// and a bitmap of the kWindow sequences up to it, as IPsec (RFC 4303 §3.4.3)
// and WireGuard do:
//
//   sequence > highest               new: the window slides forward
//   highest - kWindow < seq <= high  accepted once (out of order is fine)
//   seq <= highest - kWindow         too old: refused
//
// Worked example (kWindow = 1024): after 5000 is accepted, 4990 is accepted,
// 4990 again is refused (seen), 3977 is accepted (1023 behind: the oldest
// slot), 3976 is refused (1024 behind: too old). Then 6500 slides the window
// and 5000, 1500 behind, is too old.
//
// The caller checks before authenticating (cheap refusal of replays) and
// records only after the message authenticated, so a forger without the key
// can neither fill the table nor move a window.
//
// The table holds at most `max_senders` boot ids; when a new one arrives at
// a full table the least recently accepted boot id is forgotten. So a
// replay is refused while the receiver remembers the sender's boot: a
// message captured from a boot id that was evicted (more than max_senders
// other boots sent authenticated messages since) or sent before this
// receiver started is accepted once more, like a fresh sender's first
// message (the gossip layer's incarnation numbers then ignore stale news).
// Memory: about 200 bytes per boot id (0.8 MB at 4,096).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

namespace ringd::agent {

class ReplayWindow {
 public:
  static constexpr std::uint64_t kWindow = 1024;  // sequences remembered per sender

  explicit ReplayWindow(std::size_t max_senders);

  // True if (boot_id, sequence) was accepted before or is older than the
  // sender's window. Does not change anything.
  bool seen(std::uint64_t boot_id, std::uint64_t sequence) const;
  // Records an authenticated message; returns false (and changes nothing)
  // if seen(boot_id, sequence).
  bool accept(std::uint64_t boot_id, std::uint64_t sequence);

  std::size_t senders() const { return index_.size(); }
  std::size_t max_senders() const { return max_senders_; }
  bool remembers(std::uint64_t boot_id) const { return index_.count(boot_id) != 0; }

 private:
  struct Sender {
    std::uint64_t boot_id = 0;
    std::uint64_t highest = 0;
    // Bit (seq % kWindow) is set when seq, within the window, was accepted.
    std::array<std::uint64_t, kWindow / 64> bits{};
  };
  static bool seen_in(const Sender& s, std::uint64_t sequence);

  std::size_t max_senders_;
  std::list<Sender> order_;  // most recently accepted first
  std::unordered_map<std::uint64_t, std::list<Sender>::iterator> index_;
};

}  // namespace ringd::agent
