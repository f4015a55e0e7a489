// gossip/probe.h — one round of the failure detector, as state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "node.h"

namespace ringd::gossip {

// The probe in flight (node_probe.cc sends, node_timers.cc times it):
//   1. a direct ping to the target, with a timeout from its round-trip time;
//   2. when no ack came by then, ping-reqs through relays (indirect) and,
//      with the TCP fallback on, a ping over a stream;
//   3. at the end of the period, a verdict: acked, reached over TCP only
//      (UDP looks blocked), or failed, with what the relays said (nacks).
// It answers "is this ack / nack / stream reply ours?" and keeps the
// counts the verdict needs; the Node does the sending and the judging.
class Probe {
 public:
  // A new round towards `target` (at `incarnation`), its direct ping sent
  // at `now` with sequence number `seq`; the indirect phase is due at
  // `indirect_at`.
  void begin(std::uint64_t seq, std::string target, std::uint64_t incarnation, Time now, Time indirect_at) {
    *this = Probe{};
    active_ = true;
    seq_ = seq;
    target_ = std::move(target);
    incarnation_ = incarnation;
    sent_at_ = now;
    indirect_at_ = indirect_at;
  }
  // No round in flight (leaving, or not a member under our name).
  void clear() { *this = Probe{}; }

  bool active() const { return active_; }
  std::uint64_t seq() const { return seq_; }
  const std::string& target() const { return target_; }
  std::uint64_t incarnation() const { return incarnation_; }  // the target's, when the round began
  Time sent_at() const { return sent_at_; }
  bool acked() const { return acked_; }
  std::uint64_t tcp_stream() const { return tcp_stream_; }  // 0: none pending

  // When the indirect phase is due: the direct timeout, while no ack came
  // and relays were not asked yet; Time::max() otherwise.
  Time indirect_at() const { return active_ && !acked_ && !indirect_sent_ ? indirect_at_ : Time::max(); }
  bool indirect_due(Time now) const { return indirect_at() <= now; }
  // The indirect phase ran: `relays_asked` ping-reqs went out.
  void indirect_sent(int relays_asked) {
    indirect_sent_ = true;
    relays_asked_ = relays_asked;
  }
  void tcp_ping_sent(std::uint64_t stream_id) { tcp_stream_ = stream_id; }

  enum class Answer : std::uint8_t { kNotOurs, kFirst, kAgain };
  // An ack with sequence number `seq` (direct or relayed).
  Answer ack(std::uint64_t seq) {
    if (!active_ || seq != seq_) return Answer::kNotOurs;
    if (acked_) return Answer::kAgain;
    acked_ = true;
    return Answer::kFirst;
  }
  // A relay's nack: it asked the target and heard nothing.
  bool nack(std::uint64_t seq) {
    if (!active_ || seq != seq_) return false;
    ++nacks_;
    return true;
  }
  // The reply to our TCP ping: an ack from the target for this round.
  bool tcp_ack(std::uint64_t seq, std::string_view source) {
    if (!active_ || seq != seq_ || source != target_) return false;
    tcp_acked_ = true;
    return true;
  }

  // What the round came to, at the end of its period.
  enum class Verdict : std::uint8_t { kAcked, kTcpOnly, kFailed };
  Verdict verdict() const {
    if (acked_) return Verdict::kAcked;
    return tcp_acked_ ? Verdict::kTcpOnly : Verdict::kFailed;
  }
  // Nothing at all answered: no ack, nack or TCP reply (Contact counts these).
  bool silent() const { return !acked_ && nacks_ == 0 && !tcp_acked_; }
  int relays_asked() const { return relays_asked_; }
  int nacks() const { return nacks_; }

 private:
  bool active_ = false;
  std::uint64_t seq_ = 0;
  std::string target_;
  std::uint64_t incarnation_ = 0;
  Time sent_at_{};
  Time indirect_at_{};
  bool acked_ = false;
  bool indirect_sent_ = false;
  int relays_asked_ = 0;
  int nacks_ = 0;
  bool tcp_acked_ = false;
  std::uint64_t tcp_stream_ = 0;
};

}  // namespace ringd::gossip
