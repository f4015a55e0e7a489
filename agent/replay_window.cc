// agent/replay_window.cc — see replay_window.h.
#include "agent/replay_window.h"

namespace ringd::agent {
namespace {

void set_bit(std::array<std::uint64_t, ReplayWindow::kWindow / 64>& bits, std::uint64_t sequence) {
  const std::uint64_t slot = sequence % ReplayWindow::kWindow;
  bits[slot / 64] |= std::uint64_t{1} << (slot % 64);
}

void clear_bit(std::array<std::uint64_t, ReplayWindow::kWindow / 64>& bits, std::uint64_t sequence) {
  const std::uint64_t slot = sequence % ReplayWindow::kWindow;
  bits[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
}

}  // namespace

ReplayWindow::ReplayWindow(std::size_t max_senders) : max_senders_(max_senders < 1 ? 1 : max_senders) {
  index_.reserve(max_senders_);
}

bool ReplayWindow::seen_in(const Sender& s, std::uint64_t sequence) {
  if (sequence > s.highest) return false;
  if (s.highest - sequence >= kWindow) return true;  // older than the window
  const std::uint64_t slot = sequence % kWindow;
  return (s.bits[slot / 64] >> (slot % 64)) & 1;
}

bool ReplayWindow::seen(std::uint64_t boot_id, std::uint64_t sequence) const {
  auto it = index_.find(boot_id);
  return it != index_.end() && seen_in(*it->second, sequence);
}

bool ReplayWindow::accept(std::uint64_t boot_id, std::uint64_t sequence) {
  auto found = index_.find(boot_id);
  if (found == index_.end()) {
    if (index_.size() >= max_senders_) {
      index_.erase(order_.back().boot_id);
      order_.pop_back();
    }
    order_.push_front(Sender{boot_id, sequence, {}});
    set_bit(order_.front().bits, sequence);
    index_.emplace(boot_id, order_.begin());
    return true;
  }
  Sender& s = *found->second;
  if (seen_in(s, sequence)) return false;
  if (sequence > s.highest) {
    // Slots of the sequences the window skips over now stand for new ones.
    const std::uint64_t advance = sequence - s.highest;
    if (advance >= kWindow) {
      s.bits.fill(0);
    } else {
      for (std::uint64_t q = s.highest + 1; q != sequence; ++q) clear_bit(s.bits, q);
      clear_bit(s.bits, sequence);
    }
    s.highest = sequence;
  }
  set_bit(s.bits, sequence);
  order_.splice(order_.begin(), order_, found->second);  // iterators stay valid
  return true;
}

}  // namespace ringd::agent
