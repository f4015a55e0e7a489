// gossip/suspicion.cc — see suspicion.h.
#include "suspicion.h"

#include <algorithm>
#include <cmath>

namespace ringd::gossip {

Duration suspicion_timeout(int suspicion_mult, std::size_t n, Duration probe_interval) {
  const double lg = std::log10(static_cast<double>(std::max<std::size_t>(n, 1)));
  const double scale = std::max(1.0, (1.0 + lg) / 2.0);
  const double mult = static_cast<double>(std::max(suspicion_mult, 1));
  // Round to whole milliseconds, as timers finer than that buy nothing.
  const double ns = mult * scale * static_cast<double>(probe_interval.count());
  const auto ms = static_cast<std::int64_t>(std::llround(ns / 1e6));
  return std::chrono::milliseconds(ms);
}

int expected_confirmations(int indirect_checks, std::size_t n) {
  const int k = std::max(indirect_checks, 0);
  if (n < 2 || static_cast<std::size_t>(k) > n - 2) return 0;
  return k;
}

Duration suspicion_timeout_after(int confirmations, int expected, Duration min, Duration max) {
  if (max < min) max = min;
  if (expected <= 0 || confirmations >= expected) return min;
  const int c = std::max(confirmations, 0);
  const double frac = std::log(static_cast<double>(c) + 1.0) /
                      std::log(static_cast<double>(expected) + 1.0);
  const double span = static_cast<double>((max - min).count());
  const auto raw = max - Duration(static_cast<Duration::rep>(std::floor(frac * span)));
  // Millisecond resolution, never below min.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(raw);
  return std::max<Duration>(ms, min);
}

Duration remaining_suspicion_time(int confirmations, int expected, Duration elapsed,
                                  Duration min, Duration max) {
  return suspicion_timeout_after(confirmations, expected, min, max) - elapsed;
}

Suspicion::Suspicion(Time now, std::string accuser, std::size_t n, const Config& cfg)
    : start_(now),
      origin_(now),
      min_(suspicion_timeout(cfg.suspicion_mult, n, cfg.probe_interval)),
      max_(min_ * std::max(cfg.suspicion_max_timeout_mult, 1)),
      expected_(gossip::expected_confirmations(cfg.indirect_checks, n)) {
  confirmers_.push_back(std::move(accuser));
  deadline_ = now + suspicion_timeout_after(0, expected_, min_, max_);
}

bool Suspicion::wants(const std::string& from) const {
  return !from.empty() && confirmations() < expected_ &&
         std::find(confirmers_.begin(), confirmers_.end(), from) == confirmers_.end();
}

void Suspicion::confirm(std::string from) {
  confirmers_.push_back(std::move(from));
  deadline_ = start_ + suspicion_timeout_after(confirmations(), expected_, min_, max_);
}

void Suspicion::restart(Time now) {
  start_ = now;
  deadline_ = std::max(deadline_, now + max_);
}

void Suspicion::hold(Time now) {
  start_ = now;
  deadline_ = now + max_;
}

}  // namespace ringd::gossip
