// agent/prometheus.h — the Prometheus text exposition format (version 0.0.4)
// and a histogram its writer can show. No I/O.
//
//   PromText t;
//   t.family("ringd_members", "gauge", "Members by state, as this agent sees them.");
//   t.sample({{"state", "alive"}}, 3);
//   t.family("ringd_resp_command_duration_seconds", "histogram", "...");
//   t.histogram({{"command", "get"}}, snapshot);
//   std::string body = t.take();
//
// Every sample follows its family's HELP and TYPE lines, so each family's
// lines stay together, as the format requires (`promtool check metrics`
// checks it). Label values are escaped (\\, \", \n); names are the caller's
// constants.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringd::agent {

using PromLabels = std::vector<std::pair<std::string_view, std::string_view>>;

// Latency buckets in seconds, shared by every ringd histogram: 100 ns to 1 s.
inline constexpr std::array<double, 15> kLatencyBuckets = {100e-9, 250e-9, 500e-9, 1e-6,  2.5e-6, 5e-6,   10e-6, 25e-6,
                                                           100e-6, 250e-6, 1e-3, 10e-3,  100e-3, 250e-3, 1.0};
// The same bounds in nanoseconds, which observe() compares exactly.
inline constexpr std::array<std::uint64_t, kLatencyBuckets.size()> kLatencyBucketsNs = {
    100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 100'000, 250'000, 1'000'000, 10'000'000, 100'000'000,
    250'000'000, 1'000'000'000};

// A histogram over kLatencyBuckets with one writer thread: observe() is a
// few relaxed loads and stores (no locked instruction), and any thread may
// read a snapshot (each value is atomic; a snapshot taken while observe()
// runs may be one observation behind in some fields, never torn).
class LatencyHistogram {
 public:
  struct Snapshot {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};  // not cumulative
    std::uint64_t count = 0;  // all observations, +Inf included
    double sum = 0;           // seconds
  };

  void observe(std::uint64_t nanoseconds) {
    std::size_t i = 0;
    while (i < kLatencyBucketsNs.size() && nanoseconds > kLatencyBucketsNs[i]) ++i;
    if (i < kLatencyBuckets.size()) bump(buckets_[i]);
    bump(count_);
    sum_ns_.store(sum_ns_.load(std::memory_order_relaxed) + nanoseconds, std::memory_order_relaxed);
  }
  Snapshot snapshot() const;
  // Adds another snapshot's observations (several threads into one series).
  static void add(Snapshot& into, const Snapshot& from);

 private:
  static void bump(std::atomic<std::uint64_t>& a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size()> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

class PromText {
 public:
  // Starts a metric family: `type` is counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family (counters: the family name already
  // ends in _total).
  void sample(const PromLabels& labels, double value);
  void sample(double value) { sample({}, value); }
  // The _bucket, _sum and _count samples of a histogram family.
  void histogram(const PromLabels& labels, const LatencyHistogram::Snapshot& h);
  std::string take() { return std::move(out_); }

 private:
  void series(std::string_view suffix, const PromLabels& labels, std::string_view extra_name = {},
              std::string_view extra_value = {});
  void value(double v);
  std::string family_;
  std::string out_;
};

}  // namespace ringd::agent
