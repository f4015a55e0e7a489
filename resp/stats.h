// resp/stats.h — server-wide RESP counters, shared by every session and
// every I/O thread. Relaxed atomics: readers (INFO, /metrics) want totals,
// not ordering.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace ringd::resp {

struct Stats {
  // Commands.
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> unknown_commands{0};
  std::atomic<std::uint64_t> wrong_arity{0};
  std::atomic<std::uint64_t> auth_failures{0};     // AUTH / HELLO AUTH with a wrong password
  std::atomic<std::uint64_t> noauth_rejections{0}; // commands refused before AUTH
  // Connections closed without a reply, as Redis does:
  std::atomic<std::uint64_t> query_buffer_overflows{0};  // command > max_query_buffer
  std::atomic<std::uint64_t> cross_protocol{0};          // "POST ..." / "Host: ..." lines
  // Connections (kept by the server; sessions only read them for INFO).
  std::atomic<std::uint64_t> connections_received{0};
  std::atomic<std::uint64_t> connections_rejected{0};    // over the max client count
  std::atomic<std::int64_t> connected_clients{0};
  std::atomic<std::uint64_t> idle_timeouts{0};
  std::atomic<std::uint64_t> output_buffer_drops{0};     // clients that did not read their replies
  // Calls by top-level command (command_index() in command_table.h), as
  // Redis's INFO commandstats counts them: run, not refused.
  static constexpr std::size_t kMaxCommands = 32;
  std::array<std::atomic<std::uint64_t>, kMaxCommands> calls{};
  // CLIENT ID source: ids start at 1 and are never reused.
  std::atomic<std::uint64_t> next_client_id{0};
};

}  // namespace ringd::resp
