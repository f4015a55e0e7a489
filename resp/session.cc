#include "resp/session.h"

#include <algorithm>

#include "resp/commands.h"
#include "resp/writer.h"

namespace ringd::resp {

Session::Session(Backend& backend, Stats& stats, Limits limits)
    : Session(backend, stats, SessionOptions{limits, nullptr}) {}

Session::Session(Backend& backend, Stats& stats, const SessionOptions& options)
    : backend_(backend),
      stats_(stats),
      limits_(options.limits),
      password_(options.password),
      parser_(limits_) {
  client_.id = stats_.next_client_id.fetch_add(1, std::memory_order_relaxed) + 1;
  client_.authenticated = password_ == nullptr;
  client_.created_s = client_.last_s = backend_.now_seconds();
}

bool Session::process(std::string_view in, std::size_t& used, std::string& out) {
  used = 0;
  // Counted once per batch: one atomic add, not one per pipelined command.
  std::uint64_t commands = 0;
  std::uint64_t fast_gets = 0;  // GETs of the fast path (dispatch() counts the others)
  Context ctx{backend_, stats_, client_, password_, out, scratch_, commands};
  struct CountOnExit {
    Stats& stats;
    std::uint64_t& n;
    std::uint64_t& gets;
    std::uint64_t& total;
    ~CountOnExit() {
      if (n != 0) stats.commands.fetch_add(n, std::memory_order_relaxed);
      if (gets != 0) stats.calls[get_command_index()].fetch_add(gets, std::memory_order_relaxed);
      total += n;
    }
  } count_on_exit{stats_, commands, fast_gets, commands_run_};
  for (;;) {
    std::size_t n = 0;
    std::string_view key;
    if (client_.authenticated && parser_.parse_get(in.substr(used), key, n)) {
      // The hot path: a whole GET, as parse() and dispatch() would run it.
      used += n;
      ++commands;
      ++fast_gets;
      dispatch_get(key, ctx);
    } else {
      parser_.set_unauthenticated(!client_.authenticated);
      const Parser::Status status = parser_.parse(in.substr(used), n);
      used += n;
      if (status == Parser::Status::kNeedMore) return true;
      if (status == Parser::Status::kError) {
        if (parser_.error() == ParseError::kQueryBufferLimit) {
          stats_.query_buffer_overflows.fetch_add(1, std::memory_order_relaxed);
        } else {
          stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
          append_error(out, parser_.error_text());
        }
        return false;
      }
      ++commands;
      if (dispatch(parser_.args(), ctx) == Outcome::kClose) return false;
    }
    if (used == in.size()) return true;  // the parser is between commands: nothing more
    if (out.size() >= limits_.max_output_batch) {
      paused_ = true;
      return true;
    }
  }
}

bool Session::resume(std::string& out) {
  if (closed_) return false;
  paused_ = false;
  backend_.begin_batch();
  std::size_t used = 0;
  if (process(buf_, used, out)) {
    buf_.erase(0, used);
    return true;
  }
  closed_ = true;
  std::string().swap(buf_);
  return false;
}

bool Session::feed(std::string_view in, std::string& out) {
  if (closed_) return false;
  if (paused_) {  // misuse (resume() was due), but keep the bytes in order
    buf_.append(in);
    return true;
  }
  backend_.begin_batch();
  while (!in.empty()) {
    std::size_t used = 0;
    if (buf_.empty()) {
      // Fast path: parse straight from the caller's bytes and keep only the
      // unfinished tail (the parser guarantees it is <= max_query_buffer).
      if (process(in, used, out)) {
        buf_.assign(in.substr(used));  // while paused: all the input not run yet
        return true;
      }
    } else {
      // An unfinished command is buffered: append no more than could still
      // belong to it, so buf_ never holds more than max_query_buffer + 1.
      const std::size_t room = limits_.max_query_buffer - std::min(buf_.size(), limits_.max_query_buffer) + 1;
      const std::size_t take = std::min(room, in.size());
      buf_.append(in.data(), take);
      in.remove_prefix(take);
      if (process(buf_, used, out)) {
        buf_.erase(0, used);
        if (paused_) {
          buf_.append(in);
          return true;
        }
        continue;
      }
    }
    closed_ = true;
    std::string().swap(buf_);
    return false;
  }
  return true;
}

}  // namespace ringd::resp
