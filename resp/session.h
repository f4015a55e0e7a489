// resp/session.h — one RESP client connection without the socket (public contract).
//
// The server reads bytes from the client and hands them to feed(); the
// session parses every complete command (pipelining: several per read),
// dispatches it and appends the replies, in order, to `out`. Partial
// commands are kept until more bytes arrive, within Limits. No I/O here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "resp/backend.h"
#include "resp/client.h"
#include "resp/limits.h"
#include "resp/parser.h"
#include "resp/stats.h"

namespace ringd::resp {

// Settings shared by every session of a server; must outlive them.
struct SessionOptions {
  Limits limits;
  // requirepass: when set, commands other than AUTH, HELLO and QUIT answer
  // NOAUTH until the client authenticates, and the parser applies Redis's
  // stricter limits for unauthenticated clients.
  const std::string* password = nullptr;
};

class Session {
 public:
  Session(Backend& backend, Stats& stats, Limits limits = {});
  Session(Backend& backend, Stats& stats, const SessionOptions& options);

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
  //
  // Once `out` holds max_output_batch bytes or more, the session stops
  // running commands and keeps the rest of the input: paused() is true. The
  // caller writes `out` and then calls resume() (not feed()) until paused()
  // is false. The replies are the same however the work was split.
  bool feed(std::string_view in, std::string& out);

  // Runs the commands kept when feed() paused; same contract as feed().
  bool resume(std::string& out);
  bool paused() const { return paused_; }

  // Bytes of input held between feeds: an unfinished command
  // (<= max_query_buffer), or, while paused(), the input not yet run.
  std::size_t buffered() const { return buf_.size(); }

  // Commands run so far on this connection (the server's busy-poll policy
  // compares them with its reads).
  std::uint64_t commands_run() const { return commands_run_; }

  // The client's state: the server fills addr/laddr/fd and keeps last_s;
  // the session sets id and created_s (Backend::now_seconds()) itself.
  ClientState& client() { return client_; }
  const ClientState& client() const { return client_; }

 private:
  // Parses and runs every complete command in `in`; `used` receives the
  // bytes done with. False: close the connection.
  bool process(std::string_view in, std::size_t& used, std::string& out);

  Backend& backend_;
  Stats& stats_;
  Limits limits_;
  const std::string* password_;
  Parser parser_;
  ClientState client_;
  std::vector<std::string_view> scratch_;
  std::string buf_;  // the start of an unfinished command, when a read ended in one
  std::uint64_t commands_run_ = 0;
  bool closed_ = false;
  bool paused_ = false;
};

}  // namespace ringd::resp
