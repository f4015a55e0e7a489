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

#include "resp/limits.h"
#include "resp/parser.h"

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
  // Connections closed without a reply, as Redis does:
  std::atomic<std::uint64_t> query_buffer_overflows{0};  // command > max_query_buffer
  std::atomic<std::uint64_t> cross_protocol{0};          // "POST ..." / "Host: ..." lines
};

// struct Limits (max_multibulk_len, max_bulk_len, max_inline_len,
// max_query_buffer) lives in resp/limits.h, included above, so that the
// parser can use it without including this header.

class Session {
 public:
  Session(const Backend& backend, Stats& stats, Limits limits = {});
  // Consumes bytes read from the client and appends the replies to `out`.
  // Returns false when the connection must be closed once `out` has been
  // written (QUIT, or a protocol error, as Redis does).
  //
  // Protocol errors append Redis's error reply, then return false. A command
  // larger than max_query_buffer, or a request starting with POST or Host:
  // (HTTP sent to the RESP port), returns false with no reply, as Redis
  // closes such clients silently. Replies to the commands that came before
  // in the same read are in `out` either way. Once false was returned, every
  // later call returns false and appends nothing.
  bool feed(std::string_view in, std::string& out);

  // Bytes of an unfinished command held between feeds (<= max_query_buffer).
  std::size_t buffered() const { return buf_.size(); }

 private:
  // Parses and runs every complete command in `in`; `used` receives the
  // bytes done with. False: close the connection.
  bool process(std::string_view in, std::size_t& used, std::string& out);

  const Backend& backend_;
  Stats& stats_;
  Limits limits_;
  Parser parser_;
  std::string buf_;  // the start of an unfinished command, when a read ended in one
  bool closed_ = false;
};

}  // namespace ringd::resp
