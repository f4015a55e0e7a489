// resp/session.h — one RESP client connection without the socket (public contract).
//
// The server reads bytes from the client and hands them to feed(); the
// session parses every complete command (pipelining: several per read),
// dispatches it and appends the replies, in order, to `out`. Partial
// commands are kept until more bytes arrive, within Limits. No I/O here.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringd::resp {

// What commands may ask of the agent; implemented in agent/ over the current
// ring snapshot. Must be safe to call from the session's thread without locks.
class Backend {
 public:
  virtual ~Backend() = default;
  // The endpoint ("ip:port") owning key; nullopt when the ring is empty.
  virtual std::optional<std::string> owner(std::string_view key) const = 0;
};

// Server-wide counters (shared by all sessions; relaxed atomics).
struct Stats {
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> unknown_commands{0};
  std::atomic<std::uint64_t> wrong_arity{0};
};

struct Limits {
  std::size_t max_multibulk_len = 1024 * 1024;      // elements per command
  std::size_t max_bulk_len = 512 * 1024;            // bytes per argument
  std::size_t max_inline_len = 64 * 1024;           // bytes per inline command line
  std::size_t max_query_buffer = 1024 * 1024;       // bytes buffered per client
};

class Session {
 public:
  Session(const Backend& backend, Stats& stats, Limits limits = {});
  // Consumes bytes read from the client and appends the replies to `out`.
  // Returns false when the connection must be closed once `out` has been
  // written (QUIT, or a protocol error, as Redis does).
  bool feed(std::string_view in, std::string& out);

 private:
  // (implementation details are resp/'s own)
};

}  // namespace ringd::resp
