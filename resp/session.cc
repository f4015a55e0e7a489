#include "resp/session.h"

#include <algorithm>

#include "resp/commands.h"
#include "resp/writer.h"

namespace ringd::resp {

Session::Session(const Backend& backend, Stats& stats, Limits limits)
    : backend_(backend), stats_(stats), limits_(limits), parser_(limits_) {}

bool Session::process(std::string_view in, std::size_t& used, std::string& out) {
  used = 0;
  for (;;) {
    std::size_t n = 0;
    const Parser::Status status = parser_.parse(in.substr(used), n);
    used += n;
    switch (status) {
      case Parser::Status::kNeedMore:
        return true;
      case Parser::Status::kError:
        if (parser_.error() == ParseError::kQueryBufferLimit) {
          stats_.query_buffer_overflows.fetch_add(1, std::memory_order_relaxed);
        } else {
          stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
          append_error(out, parser_.error_text());
        }
        return false;
      case Parser::Status::kOk:
        if (dispatch(parser_.args(), backend_, stats_, out) == Outcome::kClose) return false;
        break;
    }
  }
}

bool Session::feed(std::string_view in, std::string& out) {
  if (closed_) return false;
  while (!in.empty()) {
    std::size_t used = 0;
    if (buf_.empty()) {
      // Fast path: parse straight from the caller's bytes and keep only the
      // unfinished tail (the parser guarantees it is <= max_query_buffer).
      if (process(in, used, out)) {
        buf_.assign(in.substr(used));
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
