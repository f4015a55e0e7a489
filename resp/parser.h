// resp/parser.h — incremental RESP2 request parser (bytes in -> one command out).
//
// Behaves like Redis 7's processMultibulkBuffer/processInlineBuffer on every
// byte, including its quirks, because the agent promises "the same replies
// Redis gives":
//
//  * A request whose first byte is '*' is multibulk (`*N\r\n$len\r\narg\r\n..`);
//    anything else is an inline command: one line split like sdssplitargs
//    ("..." with \n \r \t \b \a \\ \" \xHH escapes, '...' with \'), ended by
//    "\n" or "\r\n".
//  * `*0`, `*-N` and blank inline lines are empty commands: skipped silently.
//  * Redis finds header lines with strchr(), so it only looks for the '\r'
//    (and never checks the byte after it, nor the two bytes after a bulk
//    argument), and a NUL byte before the line end hides the line end: such a
//    header never completes and ends in "too big ... string" once the line
//    outgrows the inline limit. We reproduce all of that.
//  * Integers are parsed like Redis's string2ll: optional '-', no '+', no
//    leading zeros, no spaces, at most 20 characters.
//
// Where Redis's outcome depends on how the bytes were split into reads, we
// pick the outcome as a function of the bytes alone, so the same input gives
// the same result however it is fragmented (the unit tests split at every
// byte):
//  * "too big inline request" / "too big mbulk count string" / "too big bulk
//    count string": the first max_inline_len + 1 bytes of the line hold no line
//    end (Redis: more than 64 KiB buffered without one).
//  * max_query_buffer: a single command (or the unfinished part of one) larger
//    than this ends the connection with no reply, as Redis does when a
//    client's query buffer outgrows client-query-buffer-limit. Redis counts
//    everything buffered; we count per command, which is what Redis's
//    16 KiB reads amount to for a client that is not flooding.
//
// Memory: the parser never buffers input itself. Multibulk arguments are
// views into the caller's buffer; inline arguments (which may be unescaped)
// are copied into a reused arena. Growth is bounded by the limits: a command
// cannot exceed max_query_buffer bytes and each argument costs >= 4 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "resp/limits.h"

namespace ringd::resp {

enum class ParseError : std::uint8_t {
  kNone,
  kInvalidMultibulkLength,  // "*x", "*-0", "*01", count > max_multibulk_len
  kInvalidBulkLength,       // "$x", "$-1", length > max_bulk_len
  kExpectedDollar,          // argument header not starting with '$'
  kTooBigInline,            // inline line longer than max_inline_len
  kTooBigMbulkCount,        // no end to a "*N" line within max_inline_len
  kTooBigBulkCount,         // no end to a "$len" line within max_inline_len
  kUnbalancedQuotes,        // inline quoting error
  kQueryBufferLimit,        // command larger than max_query_buffer: close silently
  kUnauthMultibulkLength,   // count > 10 before AUTH (when a password is set)
  kUnauthBulkLength,        // argument > 16 KiB before AUTH (when a password is set)
};

// Redis 7's stricter limits for clients that still have to AUTH.
inline constexpr std::int64_t kUnauthMaxMultibulkLen = 10;
inline constexpr std::int64_t kUnauthMaxBulkLen = 16 * 1024;

class Parser {
 public:
  enum class Status : std::uint8_t {
    kOk,        // a non-empty command is ready: args()
    kNeedMore,  // every complete command so far was consumed; feed more bytes
    kError,     // protocol error: error(); the connection must close
  };

  explicit Parser(const Limits& limits);

  // Parses the first command in `in`, which must start at the first byte not
  // consumed yet. `consumed` receives the bytes the caller may drop:
  //  - kOk: up to the end of the command (plus any empty commands before it);
  //  - kNeedMore: the empty commands skipped; the rest of `in` is the start
  //    of an unfinished command. Call again with a view starting at
  //    in + consumed that holds those same bytes followed by more; work done
  //    on them is not repeated;
  //  - kError: 0. The error is sticky: later calls return kError again.
  Status parse(std::string_view in, std::size_t& consumed);

  // Arguments of the command just returned with kOk; args()[0] is the name.
  // Views into the `in` given to parse() (multibulk) or into the parser
  // (inline); valid until the next parse() or until `in` is modified.
  std::span<const std::string_view> args() const { return args_; }

  ParseError error() const { return error_; }
  // Redis's reply text for error() without the leading '-' and CRLF, e.g.
  // "ERR Protocol error: invalid bulk length"; empty when Redis closes the
  // connection without a reply (kQueryBufferLimit).
  std::string_view error_text() const { return error_text_; }

  // GET in the form every client sends it, "*2\r\n$3\r\nGET\r\n$<n>\r\n<key>\r\n"
  // (GET in any case, n from 1 and written without leading zeros), whole
  // at the start of `in`, between commands and within every limit. Takes
  // only commands for which parse() would return kOk with args {GET, key}
  // and consume `end` bytes, though not all of them (an empty key, other
  // bytes where CRLF usually is). Sets key and end; false (nothing
  // changed) for anything else, which parse() then decides. A shortcut past
  // parse()'s state and args() for the command that is nearly all the
  // traffic. Never taken while set_unauthenticated(true) is in force:
  // callers use it for authenticated clients only.
  bool parse_get(std::string_view in, std::string_view& key, std::size_t& end) const;

  // Forget any partial command and error (for reusing a parser).
  void reset();

  // While true, headers parsed from now on get Redis's limits for clients
  // that have not authenticated yet (kUnauthMaxMultibulkLen,
  // kUnauthMaxBulkLen), checked after the ordinary ones as Redis does. The
  // session flips it per command, so an AUTH lifts the limits for the very
  // next command of the same pipeline.
  void set_unauthenticated(bool on) { unauthenticated_ = on; }

 private:
  enum class State : std::uint8_t { kStart, kMultibulk, kInline, kError };
  enum class Step : std::uint8_t { kDone, kNeedMore, kError };

  // The common case in one pass: a whole multibulk command at the start of
  // `cmd`, count 1..9, short canonical headers, within every limit. Sets
  // args_ and `end`; false (nothing else changed) for anything else, which
  // the general path below then decides byte for byte.
  bool parse_simple_multibulk(std::string_view cmd, std::size_t& end);
  Step parse_multibulk(std::string_view cmd);
  Step parse_inline(std::string_view cmd);
  // Finds `term` in the line starting at pos_ with strchr() semantics (a NUL
  // first means "not found"), looking at no more than max_inline_len + 1
  // bytes. Returns the index or npos; resumes where the last call stopped.
  std::size_t find_line_end(std::string_view cmd, char term);
  void start_line(std::size_t pos);
  Step fail(ParseError e, char got = 0);
  bool split_inline(std::string_view line);

  Limits limits_;
  State state_ = State::kStart;
  // Resume point within the current command (offsets from its first byte).
  std::size_t pos_ = 0;         // next unparsed byte (start of a line/arg)
  std::size_t scan_ = 0;        // line-end search resumes here
  bool nul_seen_ = false;       // a NUL precedes the line end: never found
  std::int64_t remaining_ = -1; // multibulk args still expected (-1: count line)
  std::int64_t bulk_len_ = -1;  // length of the current arg (-1: header)
  // Arguments found so far as (offset, length) in the command (multibulk)
  // or in arena_ (inline).
  std::vector<std::pair<std::size_t, std::size_t>> spans_;
  std::string arena_;
  std::vector<std::string_view> args_;
  ParseError error_ = ParseError::kNone;
  std::string error_text_;
  bool unauthenticated_ = false;
};

// Redis's string2ll(): the only integer syntax Redis accepts in protocol
// headers and in integer arguments such as SELECT's.
bool parse_redis_int(std::string_view s, std::int64_t& value);

}  // namespace ringd::resp
